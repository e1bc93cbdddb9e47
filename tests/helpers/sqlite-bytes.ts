// Reads SQLite's files as an attacker with a copy of the data folder would: byte by byte, without
// SQLite. The database file's pages, the WAL's frames of every generation grouped by commit, the
// records in each b-tree page (its cells), and the free space around them (freeblocks, the gap
// between the cell pointers and the cells, free pages). Written from the file format
// (sqlite.org/fileformat2.html), for the anonymity tests; it decodes what those tests need:
// leaf and interior pages of tables and indexes, records with their local payload (an overflowing
// record is decoded as far as its first page holds it).

export type Value = null | number | bigint | string | Uint8Array;

export interface Cell {
  /** The rowid, for a cell of a table leaf (a rowid table). */
  rowid?: bigint;
  values: Value[];
  /** Whether the record went on in overflow pages (its last values may be cut off or missing). */
  truncated: boolean;
}

export interface Page {
  number: number;
  /** 0x0d table leaf, 0x05 table interior, 0x0a index leaf, 0x02 index interior; 0 otherwise. */
  kind: number;
  cells: Cell[];
  /** Bytes not in any cell: freeblocks, the unallocated gap, and the whole page if it is not a b-tree page. */
  free: Uint8Array[];
}

export interface Frame {
  page: number;
  /** For the last frame of a commit: the size of the database after it, in pages; else 0. */
  commitSize: number;
  salt1: number;
  salt2: number;
  /** Position in the WAL file (0-based frame index). */
  index: number;
  data: Uint8Array;
}

export interface Commit {
  /** Generation (salt-1, which SQLite raises each time the WAL starts over) and order within it. */
  salt1: number;
  frames: Frame[];
}

function readVarint(b: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < 8; i++) {
    const byte = b[at + i]!;
    value = (value << 7n) | BigInt(byte & 0x7f);
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  value = (value << 8n) | BigInt(b[at + 8]!);
  return [value, 9];
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Decodes a record (header of serial types, then the values) as far as `payload` holds it. */
export function decodeRecord(payload: Uint8Array, truncated = false): Cell | undefined {
  if (payload.length === 0) return undefined;
  const [headerSize, n] = readVarint(payload, 0);
  if (headerSize < 1n || headerSize > BigInt(payload.length)) return undefined;
  const types: bigint[] = [];
  for (let at = n; at < Number(headerSize); ) {
    const [type, m] = readVarint(payload, at);
    if (type === 10n || type === 11n) return undefined;
    types.push(type);
    at += m;
  }
  const values: Value[] = [];
  let at = Number(headerSize);
  for (const type of types) {
    const t = Number(type);
    const size = t <= 4 ? t : t === 5 ? 6 : t === 6 || t === 7 ? 8 : t < 12 ? 0 : t % 2 === 0 ? (t - 12) / 2 : (t - 13) / 2;
    if (at + size > payload.length) {
      if (!truncated) return undefined;
      break;
    }
    const bytes = payload.subarray(at, at + size);
    if (t === 0) values.push(null);
    else if (t >= 1 && t <= 6) {
      let v = 0n;
      for (const byte of bytes) v = (v << 8n) | BigInt(byte);
      if (bytes[0]! & 0x80) v -= 1n << BigInt(8 * size);
      values.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
    } else if (t === 7) values.push(new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0));
    else if (t === 8 || t === 9) values.push(t - 8);
    else if (t % 2 === 0) values.push(bytes);
    else values.push(decoder.decode(bytes));
    at += size;
  }
  return { values, truncated };
}

/** How much of a payload of `p` bytes a page keeps locally (the rest is in overflow pages). */
function localSize(p: number, usable: number, table: boolean): number {
  const x = table ? usable - 35 : Math.floor(((usable - 12) * 64) / 255) - 23;
  if (p <= x) return p;
  const m = Math.floor(((usable - 12) * 32) / 255) - 23;
  const k = m + ((p - m) % (usable - 4));
  return k <= x ? k : m;
}

/** The cells and free space of one page image (`number` 1 has the 100-byte file header first). */
export function decodePage(data: Uint8Array, number: number, usable = data.length): Page {
  const base = number === 1 ? 100 : 0;
  const kind = data[base]!;
  if (![0x0d, 0x05, 0x0a, 0x02].includes(kind)) return { number, kind: 0, cells: [], free: [data] };
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const count = view.getUint16(base + 3);
  const contentStart = view.getUint16(base + 5) || 65536;
  const interior = kind === 0x05 || kind === 0x02;
  const pointers = base + (interior ? 12 : 8);
  const cells: Cell[] = [];
  for (let i = 0; i < count; i++) {
    let at = view.getUint16(pointers + 2 * i);
    if (at >= data.length) continue;
    if (interior) at += 4;
    if (kind === 0x05) {
      // A table interior cell holds only a rowid.
      const [rowid] = readVarint(data, at);
      cells.push({ rowid, values: [], truncated: false });
      continue;
    }
    const [size, n] = readVarint(data, at);
    at += n;
    let rowid: bigint | undefined;
    if (kind === 0x0d) {
      const [r, m] = readVarint(data, at);
      rowid = r;
      at += m;
    }
    const local = localSize(Number(size), usable, kind === 0x0d);
    const cell = decodeRecord(data.subarray(at, Math.min(data.length, at + local)), local < Number(size));
    if (cell) cells.push(rowid === undefined ? cell : { ...cell, rowid });
  }
  const free: Uint8Array[] = [data.subarray(pointers + 2 * count, contentStart)];
  for (let at = view.getUint16(base + 1), hops = 0; at !== 0 && at + 4 <= data.length && hops < 10_000; hops++) {
    const size = view.getUint16(at + 2);
    free.push(data.subarray(at + 4, at + size));
    at = view.getUint16(at);
  }
  return { number, kind, cells, free };
}

/** The page size of a database file (from its header), or of a WAL (from its header). */
export function pageSizeOf(database: Uint8Array): number {
  const size = new DataView(database.buffer, database.byteOffset).getUint16(16);
  return size === 1 ? 65536 : size;
}

/** The pages of a database file, numbered from 1. */
export function databasePages(file: Uint8Array): Map<number, Uint8Array> {
  const pages = new Map<number, Uint8Array>();
  if (file.length < 100) return pages;
  const size = pageSizeOf(file);
  for (let at = 0, n = 1; at + size <= file.length; at += size, n++) pages.set(n, file.subarray(at, at + size));
  return pages;
}

/**
 * Every frame in a WAL file, whatever its generation, grouped into commits in the order they were
 * made: by generation (salt-1 rises by one each time the WAL starts over), then by position.
 * Frames of a generation after its last commit frame (a transaction never committed) form a
 * commit of their own.
 */
export function walCommits(wal: Uint8Array): Commit[] {
  if (wal.length < 32) return [];
  const header = new DataView(wal.buffer, wal.byteOffset, 32);
  const pageSize = header.getUint32(8);
  const frames: Frame[] = [];
  for (let at = 32, index = 0; at + 24 + pageSize <= wal.length; at += 24 + pageSize, index++) {
    const h = new DataView(wal.buffer, wal.byteOffset + at, 24);
    frames.push({ page: h.getUint32(0), commitSize: h.getUint32(4), salt1: h.getUint32(8), salt2: h.getUint32(12), index, data: wal.subarray(at + 24, at + 24 + pageSize) });
  }
  const bySalt = new Map<string, Frame[]>();
  for (const f of frames) {
    const key = `${f.salt1}:${f.salt2}`;
    bySalt.set(key, [...(bySalt.get(key) ?? []), f]);
  }
  const generations = [...bySalt.values()].sort((a, b) => a[0]!.salt1 - b[0]!.salt1);
  const commits: Commit[] = [];
  for (const generation of generations) {
    let current: Frame[] = [];
    for (const f of generation) {
      current.push(f);
      if (f.commitSize !== 0) {
        commits.push({ salt1: f.salt1, frames: current });
        current = [];
      }
    }
    if (current.length > 0) commits.push({ salt1: generation[0]!.salt1, frames: current });
  }
  return commits;
}

/** Whether `needle` (as UTF-8) occurs anywhere in `haystack`. */
export function containsText(haystack: Uint8Array, needle: string): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(Buffer.from(needle, 'utf8'));
}
