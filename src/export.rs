//! Downloads: tables written as CSV that Excel opens as they are (UTF-8 with a byte-order
//! mark, so Turkish letters show; `;` between cells for Excel set to Turkish, where `,` is the
//! decimal comma) and that no spreadsheet runs as a formula.

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
