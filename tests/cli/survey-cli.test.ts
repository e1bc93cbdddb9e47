// The survey command as a user runs it: through the bin in package.json, as a child process.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url).pathname;
function survey(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['scripts/survey.js', ...args], { cwd: root, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const questionnaireFiles = readdirSync(join(root, 'questionnaires'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => `questionnaires/${f}`);

function writeBroken(name: string, json: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'survey-check-'));
  const file = join(dir, name);
  writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json, null, 2));
  return file;
}

const broken = {
  id: 'kapot',
  version: '1',
  title: 'Kapot',
  counting: { reached: 'Q9' },
  blocks: [
    { id: 'p1', items: [{ id: 'Q1', type: 'single', text: 'Ja?', options: [{ code: 'ja', label: 'Ja' }, { code: 'ja', label: 'Nee' }] }] },
    { id: 'p2', showIf: 'Q1 == misschien', items: [{ id: 'Q2', type: 'open', text: 'Waarom?' }] },
  ],
  end: { text: 'Dank' },
};

describe('survey check', () => {
  it('exits 0 on the reference questionnaires (questionnaires/*.json)', () => {
    const { status, stdout } = survey('check', ...questionnaireFiles);
    expect(status).toBe(0);
    expect(stdout).toContain('questionnaires/owb-2024.json: ok');
    expect(stdout).toContain('questionnaires/monitor-2024-agressie.json: ok');
    expect(stdout).toContain('questionnaires/monitor-2020-pa.json: ok');
    expect(stdout).toContain('questionnaires/schema.json: skipped (a JSON Schema, not a questionnaire)');
  });

  it('prints every problem with file, line, JSON path and column, and exits non-zero', () => {
    const file = writeBroken('kapot.json', broken);
    const { status, stderr } = survey('check', file);
    expect(status).toBe(1);
    const lines = stderr.trim().split('\n');
    // The lines of the file as JSON.stringify(broken, null, 2) writes it: the second "code": "ja"
    // is on line 22, the showIf on 31, "reached" on 6.
    expect(lines).toContain(`${file}:22: $.blocks[0].items[0].options[1].code: duplicate option code "ja"`);
    expect(lines).toContain(`${file}:31: $.blocks[1].showIf, column 7: Q1 has no option "misschien"; its options are: ja, ja`);
    expect(lines).toContain(`${file}:6: $.counting.reached: the counting rule points to "Q9", which is not an item of this questionnaire`);
    expect(lines[lines.length - 1]).toBe('3 problems in 1 of 1 file');
  });

  it('checks every file given and reports which are broken', () => {
    const file = writeBroken('syntax.json', '{ "id": "x", }');
    const { status, stdout, stderr } = survey('check', 'questionnaires/owb-2024.json', file, 'does-not-exist.json');
    expect(status).toBe(1);
    expect(stdout).toContain('questionnaires/owb-2024.json: ok');
    expect(stderr).toContain(`${file}: $: not valid JSON at line 1, column 14`);
    expect(stderr).toContain('does-not-exist.json: $: cannot read the file: file not found');
    expect(stderr).toContain('2 problems in 2 of 3 files');
  });
});

describe('survey simulate', () => {
  it('prints the coverage of every page, item and option, deterministically for a seed', () => {
    const first = survey('simulate', 'questionnaires/owb-2024.json', '--respondents', '300', '--seed', '7');
    const again = survey('simulate', 'questionnaires/owb-2024.json', '-n', '300', '-s', '7');
    expect(first.status).toBe(0);
    expect(first.stdout).toBe(again.stdout);
    expect(first.stdout).toMatch(/^questionnaires\/owb-2024\.json: 300 simulated respondents \(seed 7\): \d+ completed, \d+ broke off, \d+ counted as a response/);
    expect(first.stdout).toMatch(/\[H2\]\s+\d+/);
    expect(first.stdout).toMatch(/\n {4}ondersteuning_gezocht\s+\d+\s+\d+\n/);
    expect(first.stdout).toContain('every page, item, option and row was shown at least once');
  });

  it('exits non-zero on a check no simulated respondent could satisfy, saying which and why', () => {
    const file = writeBroken('onmogelijk.json', {
      id: 'onmogelijk',
      version: '1',
      title: 'Onmogelijk',
      counting: { reached: 'Q1' },
      blocks: [{ id: 'p1', items: [{ id: 'Q1', type: 'number', required: false, text: 'Getal', min: 0, max: 10, rules: [{ assert: 'Q1 > 10', message: 'Meer dan tien' }] }] }],
      end: { text: 'Dank' },
    });
    const { status, stdout, stderr } = survey('simulate', file, '-n', '40');
    expect(status).toBe(1);
    expect(stdout).toMatch(/checks and numbers of answers: simulated respondents who could satisfy them\n {2}Q1 +0 of \d+ +<< nobody/);
    expect(stderr).toMatch(/onmogelijk\.json: \$: no simulated respondent could answer "Q1" validly \(\d+ tried\): Q1: Meer dan tien \(\d+\); a check no one can satisfy\?/);
  });

  it('exits non-zero and lists what was never shown', () => {
    const file = writeBroken('zeldzaam.json', {
      id: 'zeldzaam',
      version: '1',
      title: 'Zeldzaam',
      counting: { reached: 'Q1' },
      blocks: [
        { id: 'p1', items: [{ id: 'Q1', type: 'number', required: true, text: 'Getal', min: 1, max: 1000 }] },
        { id: 'p2', showIf: 'Q1 == 777', items: [{ id: 'Q2', type: 'open', text: 'Waarom 777?' }] },
      ],
      end: { text: 'Dank' },
    });
    const { status, stderr } = survey('simulate', file, '-n', '50');
    expect(status).toBe(1);
    expect(stderr).toContain('never shown (2): block p2, item Q2');
  });

  it('refuses a questionnaire with problems, and bad arguments', () => {
    expect(survey('simulate', writeBroken('kapot.json', broken)).status).toBe(1);
    const zero = survey('simulate', 'questionnaires/owb-2024.json', '--respondents', '0');
    expect(zero.status).toBe(2);
    expect(zero.stderr).toContain('expected a whole number of at least 1');
    expect(survey('simulate').status).toBe(2);
    expect(survey('unknown-command').status).toBe(2);
  });
});

describe('the survey command in a pipe', () => {
  it('finishes quietly when the reader stops early (survey status | head)', async () => {
    const child = spawn(process.execPath, ['scripts/survey.js', 'check', ...questionnaireFiles], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    // The reader is gone before the first line: every write meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(status).toBe(0);
  });
});
