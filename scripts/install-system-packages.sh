#!/usr/bin/env bash
# Debian packages the tests need beyond Node: GNU PSPP (the SPSS syntax export is loaded in it),
# Chromium (the browser tests drive /usr/bin/chromium with playwright-core; nothing is
# downloaded by Playwright), OpenSSL (certificates for the SMTP tests' TLS) and Postfix (a real mail
# server for the mail tests, tests/mail/postfix.test.ts: each test starts instances of its own on
# loopback with `postfix -c <folder>`; the system's own instance is left unconfigured and stopped).
# Installs only what is missing; needs root (or sudo) the first time.
set -euo pipefail

missing=()
command -v pspp >/dev/null 2>&1 || missing+=(pspp)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
[ -x /usr/sbin/postfix ] || missing+=(postfix)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# Postfix asks what kind of mail server this machine is: none (the tests configure their own).
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
# With recommends: chromium's fonts, so pages render (and screenshot) as respondents see them.
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
