// The response curve as an inline SVG drawn on the server: no JavaScript, no chart library, and
// readable without colour (each line has its own dash pattern and a label at its end).
import type { CurveSeries, ResponseCurve } from '../../usecases/dashboard.ts';

const WIDTH = 720;
const HEIGHT = 320;
const PAD = { left: 48, right: 150, top: 16, bottom: 40 };
const COLOURS = ['#154273', '#b3001b', '#2b7a0b', '#8a4b00', '#5b2a86', '#00696f', '#4a4a4a', '#a0005a'];
const DASHES = ['', '6 3', '2 3', '10 3 2 3', '1 2', '12 4', '4 4', '8 2 2 2'];

const escape = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function responseCurveSvg(curve: ResponseCurve, text: { title: string; total: string }): string {
  const lines: { label: string; series: CurveSeries; colour: string; dash: string; width: number }[] = [];
  if (curve.total) lines.push({ label: text.total, series: curve.total, colour: '#000000', dash: '', width: 3 });
  curve.series.forEach((s, i) => lines.push({ label: s.label, series: s, colour: COLOURS[i % COLOURS.length]!, dash: DASHES[i % DASHES.length]!, width: 2 }));
  const pct = (s: CurveSeries, i: number): number => (s.invited > 0 ? (100 * s.cumulative[i]!) / s.invited : 0);
  const highest = Math.max(10, ...lines.flatMap((l) => l.series.cumulative.map((_, i) => pct(l.series, i))));
  const top = Math.min(100, Math.ceil(highest / 10) * 10);
  const days = curve.days.length;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number): number => PAD.left + (days <= 1 ? plotW / 2 : (plotW * i) / (days - 1));
  const y = (p: number): number => PAD.top + plotH - (plotH * p) / top;
  const fmt = (n: number): string => n.toFixed(1);

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="curve-title" class="curve">`);
  parts.push(`<title id="curve-title">${escape(text.title)}</title>`);
  // Grid and y axis: every 10 points.
  for (let p = 0; p <= top; p += 10) {
    parts.push(`<line x1="${PAD.left}" x2="${PAD.left + plotW}" y1="${fmt(y(p))}" y2="${fmt(y(p))}" stroke="#dddddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${fmt(y(p) + 4)}" text-anchor="end" font-size="12">${p}%</text>`);
  }
  // X axis: the first day of the fieldwork and then every 7th day.
  curve.days.forEach((d, i) => {
    if (i % 7 !== 0 && i !== days - 1) return;
    parts.push(`<text x="${fmt(x(i))}" y="${HEIGHT - PAD.bottom + 16}" text-anchor="middle" font-size="12">${escape(d.slice(8, 10))}-${escape(d.slice(5, 7))}</text>`);
  });
  // Mailings: dashed vertical lines with their id.
  for (const m of curve.mailings) {
    const i = curve.days.indexOf(m.day);
    if (i < 0) continue;
    parts.push(`<line x1="${fmt(x(i))}" x2="${fmt(x(i))}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="#6b6b6b" stroke-dasharray="4 4"/>`);
    parts.push(`<text x="${fmt(x(i) + 3)}" y="${PAD.top + plotH + 32}" font-size="11" fill="#4a4a4a">${escape(m.id)}</text>`);
  }
  for (const l of lines) {
    const points = l.series.cumulative.map((_, i) => `${fmt(x(i))},${fmt(y(pct(l.series, i)))}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${l.colour}" stroke-width="${l.width}"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''} points="${points}"/>`);
    const end = pct(l.series, days - 1);
    parts.push(`<text x="${PAD.left + plotW + 6}" y="${fmt(y(end) + 4)}" font-size="12" fill="${l.colour}">${escape(l.label)} ${Math.round(end)}%</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}
