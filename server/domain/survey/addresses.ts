// Email addresses as the platform accepts them: in a sample frame, as the sender or reply address
// of a survey's mail, as the address a test mail goes to. One rule everywhere, so that what
// `survey create` or `survey import` accepts is what the sender can put in a header.

const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:".]+(\.[^\s@<>()[\]\\,;:".]+)*\.[A-Za-z]{2,}$/;

/** A bare address (local@domain.tld); not "Name <address>". */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

/** Splits "Name <address>" or a bare address (quotes around the name are dropped). */
export function parseAddress(text: string): { name: string; address: string } {
  const m = /^\s*(.*?)\s*<([^>]+)>\s*$/.exec(text);
  return m ? { name: m[1]!.replace(/^"(.*)"$/, '$1'), address: m[2]! } : { name: '', address: text.trim() };
}

/** Whether the text is "Name <address>" or a bare address, with a valid address and no stray brackets. */
export function isMailbox(text: string): boolean {
  const { name, address } = parseAddress(text);
  return isEmailAddress(address) && !/[<>\r\n]/.test(name);
}
