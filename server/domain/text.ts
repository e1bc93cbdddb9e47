// One rule for text that must stay on one line: a name or note in a CSV row, a header of a mail.
// A line break or other control character there would start a new row or smuggle in a header.

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Whether the text holds a line break, tab or other control character. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

// Characters that change how text around them is shown without being seen themselves: bidi
// controls (a right-to-left override makes "gnp.exe" read "exe.png") and zero-width spaces and
// joiners that make two names or addresses look the same while they differ.
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

/** Whether the text holds a bidirectional control or an invisible character (zero-width space, word joiner, BOM). */
export function hasInvisibleCharacter(text: string): boolean {
  return INVISIBLE.test(text);
}
