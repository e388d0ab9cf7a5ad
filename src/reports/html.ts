import { label, type LabelKey, type ReportLang } from './labels.js';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export interface HtmlTable {
  caption: string;
  header: string[];
  rows: string[][];
  /** Row indexes drawn as needing attention (overdue filings). */
  flagged?: ReadonlySet<number>;
}

/** A self-contained page that prints on A4 landscape: no scripts, no external assets. */
export function htmlPage(opts: { lang: ReportLang; title: LabelKey; facts: Array<[LabelKey, string]>; tables: HtmlTable[] }): string {
  const l = (k: LabelKey) => label(k, opts.lang);
  return printablePage({
    lang: opts.lang,
    title: l(opts.title),
    facts: opts.facts.map(([k, v]) => [l(k), v]),
    tables: opts.tables,
  });
}

/** The same page with titles already in words (reports of other modules, e.g. the dossier's verifications). */
export function printablePage(opts: { lang: ReportLang; title: string; facts: Array<[string, string]>; tables: HtmlTable[] }): string {
  const t = (k: LabelKey) => escapeHtml(label(k, opts.lang));
  const facts = opts.facts.map(([k, v]) => `<div><b>${escapeHtml(k)}:</b> ${escapeHtml(v)}</div>`).join('\n');
  const tables = opts.tables
    .map((table) => {
      const head = table.header.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
      const body =
        table.rows.length === 0
          ? `<tr><td colspan="${table.header.length}">${t('none')}</td></tr>`
          : table.rows
              .map(
                (r, i) => `<tr${table.flagged?.has(i) ? ' class="flag"' : ''}>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`,
              )
              .join('\n');
      return `<h2>${escapeHtml(table.caption)}</h2>\n<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="${opts.lang === 'en' ? 'en' : 'zh-CN'}">
<head>
<meta charset="utf-8">
<title>${escapeHtml(opts.title)}</title>
<style>
@page { size: A4 landscape; margin: 12mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif; font-size: 10pt; color: #000; }
h1 { font-size: 16pt; margin: 0 0 6pt; }
h2 { font-size: 12pt; margin: 12pt 0 4pt; }
table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
thead { display: table-header-group; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #444; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #eee; }
tr.flag td { background: #fdd; font-weight: bold; }
</style>
</head>
<body>
<h1>${escapeHtml(opts.title)}</h1>
${facts}
${tables}
</body>
</html>
`;
}
