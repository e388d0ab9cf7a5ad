/**
 * A minimal PDF 1.4 writer for tabular reports: text in the standard Helvetica font (no
 * font embedded, so Latin-1 text only), A4 landscape pages, a header row repeated on each
 * page. Characters outside Latin-1 print as "?": PDF reports therefore use English labels
 * and camera IDs; the HTML report carries the Chinese text.
 */
const PAGE_W = 842;
const PAGE_H = 595;
const MARGIN = 36;
const LINE = 13;
const FONT_SIZE = 9;
/** Helvetica's average advance is about 0.5 em: enough to budget column widths. */
const CHAR_W = FONT_SIZE * 0.5;

export interface PdfTable {
  title: string;
  header: string[];
  rows: string[][];
}

function pdfText(text: string): string {
  const latin1 = [...text].map((c) => (c.charCodeAt(0) < 256 && c.charCodeAt(0) >= 32 ? c : '?')).join('');
  return latin1.replace(/[\\()]/g, (c) => `\\${c}`);
}

function columnWidths(table: PdfTable): number[] {
  const widths = table.header.map((h, i) => Math.max(h.length, ...table.rows.map((r) => (r[i] ?? '').length)) * CHAR_W + 8);
  const total = widths.reduce((a, b) => a + b, 0);
  const room = PAGE_W - 2 * MARGIN;
  return total <= room ? widths : widths.map((w) => (w * room) / total);
}

function clipTo(text: string, width: number): string {
  const max = Math.max(1, Math.floor((width - 6) / CHAR_W));
  return text.length <= max ? text : `${text.slice(0, max - 1)}~`;
}

/** Page content streams: the heading lines, then each table with its header on every page. */
function layout(heading: string[], tables: PdfTable[]): string[] {
  const pages: string[][] = [[]];
  let y = PAGE_H - MARGIN;
  const page = () => pages[pages.length - 1] as string[];
  const newPage = () => {
    pages.push([]);
    y = PAGE_H - MARGIN;
  };
  const text = (x: number, s: string, size = FONT_SIZE, bold = false) =>
    page().push(`BT /${bold ? 'F2' : 'F1'} ${size} Tf ${x.toFixed(1)} ${y.toFixed(1)} Td (${pdfText(s)}) Tj ET`);
  for (const [i, line] of heading.entries()) {
    text(MARGIN, line, i === 0 ? 14 : FONT_SIZE, i === 0);
    y -= i === 0 ? 20 : LINE;
  }
  for (const table of tables) {
    const widths = columnWidths(table);
    const row = (cells: string[], bold: boolean) => {
      let x = MARGIN;
      cells.forEach((c, i) => {
        text(x + 2, clipTo(c, widths[i] ?? 0), FONT_SIZE, bold);
        x += widths[i] ?? 0;
      });
      page().push(`${MARGIN} ${(y - 3).toFixed(1)} m ${(PAGE_W - MARGIN).toFixed(1)} ${(y - 3).toFixed(1)} l 0.5 w S`);
      y -= LINE;
    };
    y -= 6;
    if (y < MARGIN + 3 * LINE) newPage();
    text(MARGIN, table.title, 11, true);
    y -= LINE + 4;
    row(table.header, true);
    for (const r of table.rows.length > 0 ? table.rows : [['none']]) {
      if (y < MARGIN + LINE) {
        newPage();
        row(table.header, true);
      }
      row(r, false);
    }
  }
  return pages.map((p) => p.join('\n'));
}

export function renderPdf(heading: string[], tables: PdfTable[]): Buffer {
  const contents = layout(heading, tables);
  const objects: string[] = [];
  // 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, then a page and its content per page.
  const pageIds = contents.map((_, i) => 5 + i * 2);
  objects[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objects[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  objects[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>';
  objects[4] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>';
  contents.forEach((stream, i) => {
    const pageId = pageIds[i] as number;
    objects[pageId] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${PAGE_W} ${PAGE_H}] ` +
      `/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents ${pageId + 1} 0 R >>`;
    objects[pageId + 1] = `<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream`;
  });
  let out = '%PDF-1.4\n%\xE2\xE3\xCF\xD3\n';
  const offsets: number[] = [];
  for (let id = 1; id < objects.length; id++) {
    offsets[id] = Buffer.byteLength(out, 'latin1');
    out += `${id} 0 obj\n${objects[id] ?? 'null'}\nendobj\n`;
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objects.length}\n0000000000 65535 f \n`;
  for (let id = 1; id < objects.length; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objects.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}
