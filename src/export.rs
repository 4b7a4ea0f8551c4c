//! Downloads: tables written as CSV that Excel opens as they are (UTF-8 with a byte-order
//! mark, so Turkish letters show; `;` between cells for Excel set to Turkish, where `,` is the
//! decimal comma), or as XLSX, and that no spreadsheet runs as a formula.

use std::borrow::Cow;

use crate::error::{Error, Result};

/// What separates the cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Separator {
    /// `,`: the CSV standard.
    #[default]
    Comma,
    /// `;`: what Excel expects where the decimal separator is a comma (Turkish settings).
    Semicolon,
}

/// `rows` as CSV, with a byte-order mark first.
pub fn csv(rows: &[Vec<String>], separator: Separator) -> Result<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut writer = csv::WriterBuilder::new()
        .delimiter(match separator {
            Separator::Comma => b',',
            Separator::Semicolon => b';',
        })
        .from_writer(&mut out);
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| match defused(cell) {
                Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
            }))
            .map_err(export_error)?;
    }
    writer.flush().map_err(|e| export_error(e.into()))?;
    drop(writer);
    Ok(out)
}

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a `'` in front, as OWASP advises against CSV injection: a name typed as
/// `=HYPERLINK(...)` stays text.
fn defused(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// `rows` as an XLSX workbook of one sheet named `sheet`, the first row bold and frozen with
/// the first two columns. Short plain numbers (rates, counts: at most 6 characters, no leading
/// zero but in `0` and `0.5`) are written as numbers; everything else as text, never as a formula, so school
/// numbers keep their digits and `=cmd|...` stays a string.
pub fn xlsx(rows: &[Vec<String>], sheet: &str) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Format, Workbook};
    let xlsx_error = |e: rust_xlsxwriter::XlsxError| Error::Export(e.to_string());
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).map_err(xlsx_error)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r).map_err(|_| Error::Export("too many rows".into()))?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|_| Error::Export("too many columns".into()))?;
            let leading_zero = cell.starts_with('0') && cell != "0" && !cell.starts_with("0.");
            let number = (r > 0 && cell.len() <= 6 && !leading_zero)
                .then(|| cell.parse::<f64>().ok())
                .flatten()
                .filter(|n| n.is_finite());
            match number {
                Some(n) => worksheet.write_number(r, c, n),
                None if r == 0 => worksheet.write_string_with_format(r, c, cell, &bold),
                None => worksheet.write_string(r, c, cell),
            }
            .map_err(xlsx_error)?;
        }
    }
    worksheet.set_freeze_panes(1, 2).map_err(xlsx_error)?;
    worksheet.autofit();
    workbook.save_to_buffer().map_err(xlsx_error)
}

fn export_error(error: csv::Error) -> Error {
    Error::Export(error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], separator: u8) -> Vec<Vec<String>> {
        let text = bytes
            .strip_prefix(b"\xEF\xBB\xBF")
            .expect("a byte-order mark");
        csv::ReaderBuilder::new()
            .delimiter(separator)
            .has_headers(false)
            .from_reader(text)
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect()
    }

    #[test]
    fn xlsx_cells_come_back_as_written_and_formulas_stay_text() {
        use calamine::{Data, Reader, Xlsx};
        let rows = vec![
            vec!["Okul numarası".into(), "Ad soyad".into(), "Oran".into()],
            vec!["1306200001".into(), "Şükrü Öztürk".into(), "85".into()],
            vec!["0012".into(), "=cmd|' /C calc'!A0".into(), "0.5".into()],
        ];
        let bytes = xlsx(&rows, "Yoklama").unwrap();
        let mut book: Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(book.sheet_names(), ["Yoklama"]);
        let range = book.worksheet_range("Yoklama").unwrap();
        let cells: Vec<Vec<Data>> = range.rows().map(<[Data]>::to_vec).collect();
        assert_eq!(
            cells[1][0],
            Data::String("1306200001".into()),
            "numbers stay text"
        );
        assert_eq!(cells[1][1], Data::String("Şükrü Öztürk".into()));
        assert_eq!(cells[1][2], Data::Float(85.0));
        assert_eq!(
            cells[2][0],
            Data::String("0012".into()),
            "leading zeros kept"
        );
        assert_eq!(
            cells[2][1],
            Data::String("=cmd|' /C calc'!A0".into()),
            "a string, not a formula"
        );
        assert_eq!(cells[2][2], Data::Float(0.5));
        assert!(
            book.worksheet_formula("Yoklama")
                .unwrap()
                .used_cells()
                .next()
                .is_none()
        );
    }

    #[test]
    fn cells_come_back_as_written_and_formulas_stay_text() {
        let rows = vec![
            vec!["Okul numarası".into(), "Ad soyad".into()],
            vec!["1306200001".into(), "Şükrü Öztürk; \"Ğ\"".into()],
            vec!["=HYPERLINK(\"http://evil\")".into(), "-2+3".into()],
        ];
        for (separator, byte) in [(Separator::Comma, b','), (Separator::Semicolon, b';')] {
            let back = read(&csv(&rows, separator).unwrap(), byte);
            assert_eq!(back[..2], rows[..2]);
            assert_eq!(back[2], ["'=HYPERLINK(\"http://evil\")", "'-2+3"]);
        }
    }
}
