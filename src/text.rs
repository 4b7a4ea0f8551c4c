//! Text helpers for matching names typed by people against names written by the portal.

/// Folds Turkish text for loose matching: case-insensitive (with Turkish dotted/dotless i) and
/// without diacritics, so "Yazılım Mühendisliği" matches "yazilim muhendisligi".
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'İ' | 'I' | 'ı' | 'i' => 'i',
            'Ç' | 'ç' => 'c',
            'Ğ' | 'ğ' => 'g',
            'Ö' | 'ö' => 'o',
            'Ş' | 'ş' => 's',
            'Ü' | 'ü' => 'u',
            c => c.to_lowercase().next().unwrap_or(c),
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Refuses text holding control characters (NUL, escape, and the like); line breaks and tabs
/// are allowed where `multi_line` says so.
pub fn refuse_control(field: &'static str, text: &str, multi_line: bool) -> crate::Result<()> {
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(crate::Error::invalid(
            field,
            crate::error::Problem::ControlCharacters,
        ));
    }
    Ok(())
}

/// True when `needle` (folded) occurs in `haystack` (folded). An empty needle matches everything.
pub fn loosely_contains(haystack: &str, needle: &str) -> bool {
    fold(haystack).contains(&fold(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turkish_names_match_typed_ascii() {
        assert!(loosely_contains(
            "Yazılım  Mühendisliği",
            "yazilim muhendisligi"
        ));
        assert!(loosely_contains(
            "Dr. Öğr. Üyesi İLKER ŞAHİN",
            "ilker sahin"
        ));
        assert!(!loosely_contains("Fizik", "kimya"));
    }
}
