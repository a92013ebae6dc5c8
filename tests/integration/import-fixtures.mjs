// Documents made by the tests for the import front-ends: a PDF written by hand (standard
// Helvetica text placed line by line, so the layout is exactly what the test says) and
// EPUB/zip archives assembled here (stored or deflated members, CRC-32 from node:zlib).
import { crc32, deflateRawSync } from 'node:zlib';

const esc = (s) => s.replace(/[\\()]/g, (c) => '\\' + c);

/** pages: [[{x, y, size, text}], ...] with y from the top of an A4 page (595 × 842 pt). */
export function makePdf(pages, { encrypt = false } = {}) {
  const objs = [];
  const add = (body) => { objs.push(body); return objs.length; };
  const catalog = add('');
  const pagesObj = add('');
  const font = add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids = [];
  for (const lines of pages) {
    const ops = lines.map((l) => `BT /F1 ${l.size ?? 10} Tf ${l.x} ${842 - l.y} Td (${esc(l.text)}) Tj ET`).join('\n');
    const content = add(`<< /Length ${Buffer.byteLength(ops, 'latin1')} >>\nstream\n${ops}\nendstream`);
    kids.push(add(`<< /Type /Page /Parent ${pagesObj} 0 R /MediaBox [0 0 595 842] ` +
      `/Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`));
  }
  objs[catalog - 1] = `<< /Type /Catalog /Pages ${pagesObj} 0 R >>`;
  objs[pagesObj - 1] = `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`;
  let enc = '';
  if (encrypt) {   // the standard security handler with keys that match no empty password
    const e = add('<< /Filter /Standard /V 1 /R 2 /O <' + '0f'.repeat(32) + '> /U <' + 'e1'.repeat(32) + '> /P -4 >>');
    enc = ` /Encrypt ${e} 0 R /ID [<${'ab'.repeat(16)}> <${'ab'.repeat(16)}>]`;
  }
  let out = '%PDF-1.4\n';
  const offs = objs.map((body, i) => {
    const at = Buffer.byteLength(out, 'latin1');
    out += `${i + 1} 0 obj\n${body}\nendobj\n`;
    return at;
  });
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` +
    offs.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objs.length + 1} /Root ${catalog} 0 R${enc} >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** files: [{name, data (string|Buffer), deflate?}] -> a zip archive. */
export function makeZip(files) {
  const locals = [];
  const central = [];
  let offset = 0;
  for (const f of files) {
    const raw = Buffer.isBuffer(f.data) ? f.data : Buffer.from(f.data, 'utf8');
    const body = f.deflate ? deflateRawSync(raw) : raw;
    const name = Buffer.from(f.name, 'utf8');
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0);
    head.writeUInt16LE(20, 4);
    head.writeUInt16LE(0x0800, 6);   // UTF-8 names
    head.writeUInt16LE(f.deflate ? 8 : 0, 8);
    head.writeUInt32LE(crc32(raw), 14);
    head.writeUInt32LE(body.length, 18);
    head.writeUInt32LE(raw.length, 22);
    head.writeUInt16LE(name.length, 26);
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x0800, 8);
    cen.writeUInt16LE(f.deflate ? 8 : 0, 10);
    cen.writeUInt32LE(crc32(raw), 16);
    cen.writeUInt32LE(body.length, 20);
    cen.writeUInt32LE(raw.length, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    locals.push(head, name, body);
    central.push(cen, name);
    offset += head.length + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const CONTAINER = '<?xml version="1.0"?><container version="1.0" ' +
  'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>' +
  '<rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>';

/** An EPUB 3: chapters [{title, body (XHTML body markup)}], a nav document naming them. */
export function makeEpub({ title, author = 'A. Writer', chapters, extra = [] }) {
  const items = chapters.map((c, i) =>
    `<item id="c${i}" href="ch${i}.xhtml" media-type="application/xhtml+xml"/>`).join('');
  const spine = chapters.map((c, i) => `<itemref idref="c${i}"/>`).join('');
  const opf = '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0">' +
    `<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${title}</dc:title>` +
    `<dc:creator>${author}</dc:creator></metadata><manifest>` +
    '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>' +
    `${items}</manifest><spine>${spine}</spine></package>`;
  const xhtml = (body) => '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" ' +
    `xmlns:epub="http://www.idpf.org/2007/ops"><head><title>x</title></head><body>${body}</body></html>`;
  const nav = xhtml('<nav epub:type="toc"><ol>' +
    chapters.map((c, i) => `<li><a href="ch${i}.xhtml">${c.title}</a></li>`).join('') + '</ol></nav>');
  return makeZip([
    { name: 'mimetype', data: 'application/epub+zip' },
    { name: 'META-INF/container.xml', data: CONTAINER, deflate: true },
    { name: 'OEBPS/book.opf', data: opf, deflate: true },
    { name: 'OEBPS/nav.xhtml', data: nav, deflate: true },
    ...chapters.map((c, i) => ({ name: `OEBPS/ch${i}.xhtml`, data: xhtml(c.body), deflate: true })),
    ...extra,
  ]);
}
