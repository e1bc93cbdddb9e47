// One rule for text that must stay on one line: a name or note in a CSV row, a header of a mail.
// A line break or other control character there would start a new row or smuggle in a header.

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether the text holds a line break, tab or other control character. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}
