// Checker benchmark (npx tsx scripts/bench/checker.ts): how many routing conditions `survey check`
// decides on a generated questionnaire of 400 questions and about 160 conditions (the size of the
// largest Monitor modules taken together), how many it leaves undecided (said as warnings), and
// whether it finds contradictions planted among a few questions behind wide routing. Also the
// reference questionnaires. The time is reported against loading the same questionnaire without
// its routing, measured in the same run.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadQuestionnaire } from '../../server/domain/questionnaire/index.ts';
import { seededRandom } from '../../server/domain/questionnaire/simulate.ts';

const QUESTIONS = Number(process.env.BENCH_QUESTIONS ?? 400);
const PER_PAGE = 4;
const PLANTED = 6;

/** A questionnaire of `QUESTIONS` questions, four a page; some pages and questions routed. */
function generate(seed: number, routed: boolean): { json: unknown; conditions: number; planted: string[] } {
  const random = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const frequency = ['nooit', 'soms', 'vaak'].map((code) => ({ code, label: code }));
  const earlier: { id: string; kind: string }[] = [];
  const blocks: unknown[] = [];
  let conditions = 0;
  const planted: string[] = [];
  const condition = (): string => {
    const parts = Array.from({ length: 1 + Math.floor(random() * 3) }, () => {
      const q = pick(earlier);
      switch (q.kind) {
        case 'single':
          return `${q.id} == ${pick(['ja', 'nee'])}`;
        case 'multi':
          return `${q.id} has any [${pick(['a', 'b', 'c'])}, ${pick(['d', 'e'])}]`;
        case 'grid':
          return `any ${q.id} > nooit`;
        case 'scale':
          return `${q.id} > ${1 + Math.floor(random() * 6)}`;
        default:
          return `${q.id} < ${Math.floor(random() * 20)}`;
      }
    });
    return parts.join(pick([' and ', ' or ']));
  };
  for (let b = 0, n = 0; n < QUESTIONS; b++) {
    const items: unknown[] = [];
    for (let i = 0; i < PER_PAGE && n < QUESTIONS; i++, n++) {
      const id = `V${n}`;
      const kind = ['single', 'multi', 'grid', 'scale', 'number'][n % 5]!;
      const item: Record<string, unknown> = { id, type: kind, text: `Vraag ${n}` };
      if (kind === 'single') item.options = [{ code: 'ja', label: 'Ja' }, { code: 'nee', label: 'Nee' }];
      if (kind === 'multi') item.options = ['a', 'b', 'c', 'd', 'e'].map((code) => ({ code, label: code }));
      if (kind === 'grid') Object.assign(item, { rows: ['r1', 'r2', 'r3', 'r4'].map((code) => ({ code, label: code })), columns: frequency });
      if (kind === 'scale') Object.assign(item, { min: 1, max: 7 });
      if (kind === 'number') Object.assign(item, { min: 0, max: 50 });
      if (routed && earlier.length > 8 && random() < 0.3) {
        item.showIf = condition();
        conditions++;
      }
      items.push(item);
    }
    const block: Record<string, unknown> = { id: `P${b}`, items };
    if (routed && earlier.length > 8 && random() < 0.2) {
      block.showIf = condition();
      conditions++;
    }
    earlier.push(...items.map((item) => ({ id: (item as { id: string }).id, kind: (item as { type: string }).type })));
    blocks.push(block);
  }
  if (routed) {
    // Contradictions among three questions (a grid, a scale, a number that is at least 0).
    for (let p = 0; p < PLANTED; p++) {
      const grid = pick(earlier.filter((q) => q.kind === 'grid')).id;
      const scale = pick(earlier.filter((q) => q.kind === 'scale')).id;
      const number = pick(earlier.filter((q) => q.kind === 'number')).id;
      const id = `X${p}`;
      blocks.push({ id, showIf: `any ${grid} > nooit and ${scale} > 5 and ${number} < 0`, items: [{ id: `XV${p}`, type: 'open', text: 'Toelichting' }] });
      planted.push(id);
      conditions++;
    }
  }
  return { json: { id: 'generated', version: '1', title: 'Gegenereerd', counting: { reached: 'V0' }, blocks, end: { text: 'Dank' } }, conditions, planted };
}

function measure(text: string): { ms: number; result: ReturnType<typeof loadQuestionnaire> } {
  const started = performance.now();
  const result = loadQuestionnaire(text);
  return { ms: performance.now() - started, result };
}

console.log(`checker benchmark (${new Date().toISOString().slice(0, 10)}, ${process.version})`);
for (const name of ['owb-2024', 'monitor-2024-agressie', 'monitor-2020-pa']) {
  const { ms, result } = measure(readFileSync(fileURLToPath(new URL(`../../questionnaires/${name}.json`, import.meta.url)), 'utf8'));
  const decided = result.decided ?? '-';
  console.log(`  ${name.padEnd(24)} ${String(decided).padStart(4)} decided, ${result.warnings?.length ?? 0} undecided  (${ms.toFixed(0)} ms)`);
}
for (const seed of [1, 2, 3]) {
  const plain = generate(seed, false);
  const routed = generate(seed, true);
  const baseline = measure(JSON.stringify(plain.json));
  const { ms, result } = measure(JSON.stringify(routed.json));
  const problems = result.ok ? [] : result.problems;
  const found = routed.planted.filter((id) => problems.some((p) => p.message.startsWith(`page "${id}" can never be shown`)));
  const decided = result.decided ?? '-';
  const other = problems.length - found.length;
  console.log(
    `  generated, seed ${seed}: ${QUESTIONS} questions, ${routed.conditions} conditions: ${decided} decided, ${result.warnings?.length ?? 0} undecided (warnings); ` +
      `planted contradictions found ${found.length} of ${routed.planted.length}; other problems ${other}; ${ms.toFixed(0)} ms, ${(ms / baseline.ms).toFixed(1)}x loading it without routing`,
  );
}
