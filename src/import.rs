//! Class lists as teachers have them: a CSV (comma, semicolon or tab between cells, UTF-8 with
//! or without a byte-order mark) or an XLSX workbook (its first sheet), one student per row:
//! the school number first, then the name (in one cell, or first name and surname in several).
//! A first row without a digit in its first cell is a header and skipped; empty rows are
//! skipped. Any bad row refuses the whole file, naming the row, so nothing is half-imported.

use crate::domain::SchoolNumber;
use crate::error::{Error, Problem, Result};

/// Most rows a class list may have.
pub const MAX_ROWS: usize = 2000;
/// Longest name accepted.
pub const MAX_NAME: usize = 200;

/// One student of an imported class list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedStudent {
    /// School number.
    pub number: SchoolNumber,
    /// Name (the number when the file has none).
    pub name: String,
}

/// The students of a class list file, in file order, each number once (the first row wins).
pub fn class_list(bytes: &[u8]) -> Result<Vec<ListedStudent>> {
    let rows = if bytes.starts_with(b"PK\x03\x04") {
        xlsx_rows(bytes)?
    } else {
        csv_rows(bytes)?
    };
    let mut students: Vec<ListedStudent> = Vec::new();
    for (i, cells) in rows.iter().enumerate() {
        let row = i + 1;
        let cells: Vec<&str> = cells
            .iter()
            .map(|c| c.trim())
            .filter(|c| !c.is_empty())
            .collect();
        let Some(first) = cells.first() else {
            continue;
        };
        if row == 1 && !first.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        if students.len() == MAX_ROWS {
            return Err(Error::ImportRow {
                row,
                field: "rows",
                problem: Problem::TooLong { max: MAX_ROWS },
            });
        }
        let number = SchoolNumber::parse(first).map_err(|e| in_row(row, e))?;
        let name = cells[1..].join(" ");
        crate::text::refuse_control("name", &name, false).map_err(|e| in_row(row, e))?;
        if name.chars().count() > MAX_NAME {
            return Err(Error::ImportRow {
                row,
                field: "name",
                problem: Problem::TooLong { max: MAX_NAME },
            });
        }
        if students.iter().any(|s| s.number == number) {
            continue;
        }
        students.push(ListedStudent {
            name: if name.is_empty() {
                number.to_string()
            } else {
                name
            },
            number,
        });
    }
    if students.is_empty() {
        return Err(Error::ImportRow {
            row: 1,
            field: "school_number",
            problem: Problem::Empty,
        });
    }
    Ok(students)
}

/// An input error of one field, said of row `row`.
fn in_row(row: usize, error: Error) -> Error {
    match error {
        Error::InvalidInput { field, problem } => Error::ImportRow {
            row,
            field,
            problem,
        },
        other => other,
    }
}

fn unreadable() -> Error {
    Error::invalid("file", Problem::Malformed)
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(text).map_err(|_| unreadable())?;
    let first = text.lines().next().unwrap_or_default();
    let delimiter = [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|r| {
            r.map(|r| r.iter().map(str::to_owned).collect())
                .map_err(|_| unreadable())
        })
        .collect()
}

fn xlsx_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).map_err(|_| unreadable())?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(unreadable)?
        .map_err(|_| unreadable())?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    // School numbers typed into Excel are numbers: 1306200001, not 1.3e9.
                    Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(list: &[ListedStudent]) -> Vec<(&str, &str)> {
        list.iter()
            .map(|s| (s.number.as_str(), s.name.as_str()))
            .collect()
    }

    #[test]
    fn csv_lists_with_a_header_any_separator_and_split_names() {
        let list = class_list(
            "\u{feff}Okul No;Ad;Soyad\n1306200001;Şükrü;Öztürk\n\n1306200002;Ayşe;Yılmaz\n1306200001;Tekrar;Satır\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            numbers(&list),
            [
                ("1306200001", "Şükrü Öztürk"),
                ("1306200002", "Ayşe Yılmaz")
            ]
        );
        let list = class_list(b"1306200003,\"Kaya, Ali\"\n1306200004\n").unwrap();
        assert_eq!(
            numbers(&list),
            [("1306200003", "Kaya, Ali"), ("1306200004", "1306200004")]
        );
    }

    #[test]
    fn a_bad_row_is_named() {
        let bad = class_list(b"No,Name\n1306200001,Ali\n13062 0002,Veli\n");
        assert!(matches!(
            bad,
            Err(Error::ImportRow {
                row: 3,
                field: "school_number",
                problem: Problem::Malformed
            })
        ));
        let nul = class_list(b"1306200001,Al\x00i\n");
        assert!(matches!(
            nul,
            Err(Error::ImportRow {
                row: 1,
                field: "name",
                ..
            })
        ));
        assert!(matches!(
            class_list(b"\xff\xfe\x00binary"),
            Err(Error::InvalidInput { field: "file", .. })
        ));
        assert!(matches!(
            class_list(b"No,Name\n"),
            Err(Error::ImportRow {
                problem: Problem::Empty,
                ..
            })
        ));
    }

    #[test]
    fn xlsx_lists_read_numbers_as_typed() {
        use rust_xlsxwriter::Workbook;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Numara").unwrap();
        sheet.write_string(0, 1, "Ad Soyad").unwrap();
        sheet.write_number(1, 0, 1306200001.0).unwrap();
        sheet.write_string(1, 1, "Zeynep Ünlü").unwrap();
        sheet.write_string(2, 0, "demo_student_5").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        assert_eq!(
            numbers(&class_list(&bytes).unwrap()),
            [
                ("1306200001", "Zeynep Ünlü"),
                ("demo_student_5", "demo_student_5")
            ]
        );
        assert!(matches!(
            class_list(b"PK\x03\x04not really a workbook"),
            Err(Error::InvalidInput { field: "file", .. })
        ));
    }
}
