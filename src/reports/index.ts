export { buildOutageReport, type OutageReport, type OutageRow, type CameraUptime } from './outageReport.js';
export { buildFilingReport, filingGeoJson, removalRule, type FilingReport, type FilingRow, type FilingDeadline } from './filingReport.js';
export {
  renderOutageReport,
  renderFilingReport,
  checkLang,
  checkTimeZone,
  checkChoice,
  OUTAGE_FORMATS,
  FILING_FORMATS,
  type RenderedReport,
} from './render.js';
export { REPORT_LANGS, type ReportLang } from './labels.js';
export { toCsv } from './csv.js';
export { renderPdf } from './pdf.js';
export { printablePage, type HtmlTable } from './html.js';
export { renderAccessRegister, REGISTER_FORMATS, type AccessRegisterReport, type OngoingRegisterEntry } from './accessRegisterReport.js';
export {
  buildPublicRequestReport,
  renderPublicRequestReport,
  PUBLIC_REQUEST_FORMATS,
  type PublicRequestReport,
  type PublicRequestRow,
} from './publicRequestReport.js';
