// Types of the values that questions, derived variables and sample fields hold, as the
// condition language sees them. The binder checks every expression against these types.

export type ValueType =
  | { kind: 'bool' }
  | { kind: 'number' }
  | { kind: 'text' }
  | { kind: 'date' }
  /** One code from a list; `ordered` holds the substantive codes in scale order (for < and >). */
  | { kind: 'choice'; codes: readonly string[]; ordered: readonly string[] }
  /** Any number of codes from a list (multiple choice). */
  | { kind: 'set'; codes: readonly string[] }
  /** A number from min to max, or one of the non-substantive codes (e.g. weet_niet). */
  | { kind: 'scale'; min: number; max: number; codes: readonly string[] }
  /** Named members (grid rows, split parts, text boxes), each of the member type. */
  | { kind: 'record'; members: readonly string[]; member: ValueType; noun: string }
  /** An ordered list of codes: the respondent's top N. */
  | { kind: 'ranking'; codes: readonly string[] };

export interface SymbolInfo {
  type: ValueType;
  /** Codes of options that carry a free text ("anders, namelijk"), reachable as `Q.code`. */
  otherCodes?: readonly string[];
}

/** What an expression may refer to. The questionnaire supplies it; the binder asks it. */
export interface Scope {
  /** A question or derived variable by id. */
  resolve(name: string): SymbolInfo | undefined;
  /** A sample field (from the invitation) by id. */
  resolveSample(name: string): SymbolInfo | undefined;
  /** Every known name, for "did you mean" hints. */
  names(): readonly string[];
  sampleNames(): readonly string[];
}

/** A runtime value: null means "not asked or not answered". */
export type Value = null | boolean | number | string | readonly string[] | { readonly [member: string]: Value };

export function describeType(t: ValueType): string {
  switch (t.kind) {
    case 'bool':
      return 'true/false';
    case 'number':
      return 'a number';
    case 'text':
      return 'a text';
    case 'date':
      return 'a date';
    case 'choice':
      return 'a single choice';
    case 'set':
      return 'a multiple choice';
    case 'scale':
      return `a scale (${t.min}-${t.max})`;
    case 'record':
      return `a ${t.noun === 'row' ? 'grid' : `group of ${t.noun}s`}`;
    case 'ranking':
      return 'a ranking';
  }
}

/** The codes a value of this type can be compared with, if any. */
export function codesOf(t: ValueType): readonly string[] | undefined {
  switch (t.kind) {
    case 'choice':
    case 'set':
    case 'scale':
    case 'ranking':
      return t.codes;
    default:
      return undefined;
  }
}
