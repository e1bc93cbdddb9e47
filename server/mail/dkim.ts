// DKIM signatures (RFC 6376) on every mail, when the bureau's mail relay does not sign for it:
// municipal and provincial mail servers, and the large mailbox providers, count an unsigned bulk
// mailing as suspect, and a one-click unsubscribe (List-Unsubscribe-Post) counts only when the
// signature covers it (RFC 8058). nodemailer's signer does the canonicalisation and hashing.

import { createPrivateKey } from 'node:crypto';
import DKIM from 'nodemailer/lib/dkim';
import { ConfigError } from '../config.ts';
import { MailUnavailableError, type MailTransport } from './transport.ts';

export interface DkimConfig {
  /** The d= domain: the domain of the sender address, or one it belongs to (DMARC alignment). */
  domain: string;
  /** The s= selector: the key is published at <selector>._domainkey.<domain>. */
  selector: string;
  /** The RSA private key, PEM. */
  privateKey: string;
}

// What the signature covers: the headers a receiver shows or acts on, the two unsubscribe headers
// included (RFC 8058 asks for both), so that none can be changed on the way.
const SIGNED_HEADERS = 'From:Reply-To:Subject:Date:Message-ID:To:MIME-Version:Content-Type:Content-Transfer-Encoding:List-Unsubscribe:List-Unsubscribe-Post';

/** Refuses a configuration that cannot sign, saying which setting is wrong. */
export function checkDkimConfig(config: DkimConfig): void {
  if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/i.test(config.domain)) throw new ConfigError(`DKIM_DOMAIN: "${config.domain}" is not a domain name`);
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(config.selector)) throw new ConfigError(`DKIM_SELECTOR: "${config.selector}" is not a selector (letters, digits, - and .)`);
  let type: string | undefined;
  try {
    type = createPrivateKey(config.privateKey).asymmetricKeyType;
  } catch (e) {
    throw new ConfigError(`DKIM_PRIVATE_KEY_FILE: not a private key in PEM form (${(e as Error).message})`);
  }
  if (type !== 'rsa') throw new ConfigError(`DKIM_PRIVATE_KEY_FILE: an RSA key is needed (rsa-sha256, which every receiver checks), not ${type}`);
}

/** Checks the configuration and returns a function that signs a message. */
export function dkimSigner(config: DkimConfig): (raw: Buffer) => Promise<Buffer> {
  checkDkimConfig(config);
  const dkim = new DKIM({ domainName: config.domain, keySelector: config.selector, privateKey: config.privateKey, headerFieldNames: SIGNED_HEADERS });
  return async (raw) => {
    const chunks: Buffer[] = [];
    for await (const chunk of dkim.sign(raw)) chunks.push(chunk as Buffer);
    const signed = Buffer.concat(chunks);
    // nodemailer leaves the signature out, without an error, when the key cannot sign.
    if (!signed.subarray(0, 15).equals(Buffer.from('DKIM-Signature:'))) throw new Error('the message could not be signed');
    return signed;
  };
}

/**
 * A transport that signs each mail before it goes out. Mails reach the inner transport in the
 * order they were given, whichever signature is done first: the end of each may wait for the
 * outcome of the one before, so the inner transport must have that one first.
 */
export function signingTransport(inner: MailTransport, config: DkimConfig, sign: (raw: Buffer) => Promise<Buffer> = dkimSigner(config)): MailTransport {
  // Resolves once the mail given last has been handed to the inner transport (or given up).
  let handedOver: Promise<void> = Promise.resolve();
  return {
    description: `${inner.description}, DKIM-signed for ${config.domain} (selector ${config.selector})`,
    send(mail, finish) {
      const signing = sign(mail.message.raw);
      signing.catch(() => {});
      const before = handedOver;
      let handOver!: () => void;
      handedOver = new Promise((resolve) => (handOver = resolve));
      return (async () => {
        try {
          await before;
          let raw: Buffer;
          try {
            raw = await signing;
          } catch (e) {
            // Not this mail's fault: no mail can go out signed, so none goes out until it is mended.
            throw new MailUnavailableError(`DKIM signing failed: ${(e as Error).message}`, { cause: e });
          }
          // Handed over now (the inner transport takes the mail in line at once), then the next.
          return inner.send({ ...mail, message: { ...mail.message, raw } }, finish);
        } finally {
          handOver();
        }
      })();
    },
    close: () => inner.close(),
  };
}
