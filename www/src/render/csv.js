// CSV (RFC 4180) shown as a table. Cells are text only: nothing evaluates a
// cell that starts with "=", "+", "-" or "@", and defanged indicators such as
// "example[.]com" are shown exactly as written. Bidi control characters are
// the one exception: each is shown as a token such as "⟨U+202E⟩", so a cell
// cannot make an indicator read differently than it is.
import { revealBidiControls } from '../bidi.js';
import { element } from './dom.js';

/** Rows shown; the rest of the file is counted and announced, with the next step. */
export const MAX_ROWS = 2000;
/** Columns kept per row; the rest are dropped and announced, with the next step. */
export const MAX_COLUMNS = 100;

/**
 * Parses CSV text as RFC 4180 describes: fields separated by commas, records
 * by CRLF or LF, a field in double quotes may hold commas, line breaks and
 * doubled quotes. Stops after `maxRows` records and returns
 * `{ rows, truncated, extraColumns }`, where `truncated` says more records
 * followed.
 */
export function parseCsv(text, { maxRows = MAX_ROWS + 1, maxColumns = MAX_COLUMNS } = {}) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  let extraColumns = false;
  let index = text.charCodeAt(0) === 0xfeff ? 1 : 0;

  const endField = () => {
    if (row.length < maxColumns) {
      row.push(field);
    } else {
      extraColumns = true;
    }
    field = '';
  };
  const endRow = () => {
    endField();
    rows.push(row);
    row = [];
  };

  while (index < text.length) {
    const char = text[index];
    if (quoted) {
      if (char === '"') {
        if (text[index + 1] === '"') {
          field += '"';
          index += 1;
        } else {
          quoted = false;
        }
      } else {
        field += char;
      }
    } else if (char === '"' && field === '') {
      quoted = true;
    } else if (char === ',') {
      endField();
    } else if (char === '\r' && text[index + 1] === '\n') {
      endRow();
      index += 1;
    } else if (char === '\n') {
      endRow();
    } else {
      field += char;
    }
    index += 1;
    if (rows.length === maxRows) {
      return { rows, truncated: index < text.length, extraColumns };
    }
  }
  if (field !== '' || row.length > 0 || quoted) {
    endRow();
  }
  return { rows, truncated: false, extraColumns };
}

/** Counts the records of a CSV text without keeping them. */
function countRows(text) {
  return parseCsv(text, { maxRows: Infinity, maxColumns: 1 }).rows.length;
}

/**
 * Draws the CSV as a table; the first record is the header row. When the
 * file has more rows or columns than the table shows, a notice states that and
 * what the reader can do: save the decrypted file when the rights allow
 * export, or ask the originator.
 */
export function render(container, { text, bytes, fileName, mediaType, rights, onEvent, onExport }) {
  const { rows, truncated, extraColumns } = parseCsv(text);
  const [header = [], ...body] = rows;
  const shown = body.slice(0, MAX_ROWS);
  const width = Math.max(header.length, ...shown.map((row) => row.length));

  const notices = [];
  if (truncated || body.length > MAX_ROWS) {
    const total = countRows(text) - 1;
    notices.push(`Showing the first ${MAX_ROWS} of ${total} rows.`);
  }
  if (extraColumns) {
    notices.push(`Showing the first ${MAX_COLUMNS} columns.`);
  }

  const notice = notices.length === 0 ? null : element('div', { className: 'valise-notice valise-csv-limit', role: 'status' }, notices.join(' '));
  if (notice !== null && rights?.export && onExport) {
    const button = element('button', { type: 'button', className: 'valise-export' }, 'Save decrypted file');
    button.addEventListener('click', () => {
      onEvent?.('exported', { fileName: fileName ?? null, mediaType, size: bytes.byteLength });
      onExport({ bytes, fileName, mediaType });
    });
    notice.append(' To see every row and column, save the decrypted file and open it in a spreadsheet program. ', button);
  } else if (notice !== null) {
    notice.append(' The originator did not allow export, so ask the originator for the rows or columns you need.');
  }

  const headRow = element('tr', {});
  for (let column = 0; column < width; column += 1) {
    headRow.append(element('th', { scope: 'col' }, revealBidiControls(header[column] ?? '')));
  }
  const tbody = element('tbody', {});
  for (const row of shown) {
    const tr = element('tr', {});
    for (let column = 0; column < width; column += 1) {
      tr.append(element('td', {}, revealBidiControls(row[column] ?? '')));
    }
    tbody.append(tr);
  }

  container.replaceChildren(
    ...(notice === null ? [] : [notice]),
    element('div', { className: 'valise-table-scroll' }, element('table', { className: 'valise-table valise-csv' }, element('thead', {}, headRow), tbody)),
  );
  return { destroy() {} };
}
