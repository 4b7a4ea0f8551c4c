//! The interface's two languages, Turkish (the default) and English: which one a request gets,
//! and how it is written in the cookie and `<html lang>`. The texts themselves are in
//! `locales/{tr,en}.json`, read at compile time by `leptos_i18n` into [`crate::i18n`].

use crate::i18n::Locale;

/// Name of the cookie that remembers the language a person chose.
pub const LANG_COOKIE: &str = "attn_lang";

impl Locale {
    /// The BCP 47 code, as used in `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        leptos_i18n::Locale::as_str(self)
    }

    /// Reads a code; anything unknown is `None`.
    pub fn from_code(code: &str) -> Option<Self> {
        code.trim().to_ascii_lowercase().parse().ok()
    }

    /// The other language, for the switch.
    pub fn other(self) -> Self {
        match self {
            Locale::tr => Locale::en,
            Locale::en => Locale::tr,
        }
    }

    /// Picks the language: the cookie if set, else the browser's first supported preference,
    /// else Turkish.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(lang) = cookie.and_then(Locale::from_code) {
            return lang;
        }
        let Some(header) = accept_language else {
            return Locale::default();
        };
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Locale::from_code(primary) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::i18n::td_string;

    #[test]
    fn turkish_unless_the_person_or_browser_says_otherwise() {
        assert_eq!(Locale::negotiate(None, None), Locale::tr);
        assert_eq!(Locale::negotiate(None, Some("fr-FR,fr;q=0.9")), Locale::tr);
        assert_eq!(Locale::negotiate(None, Some("en-US,en;q=0.9")), Locale::en);
        assert_eq!(
            Locale::negotiate(None, Some("en;q=0.5,tr;q=0.8")),
            Locale::tr
        );
        assert_eq!(Locale::negotiate(Some("en"), Some("tr-TR")), Locale::en);
        assert_eq!(Locale::negotiate(Some("xx"), Some("en")), Locale::en);
        assert_eq!(Locale::from_code(" EN "), Some(Locale::en));
        assert_eq!(Locale::tr.other().code(), "en");
    }

    /// The texts of one language: key -> text.
    fn texts(json: &str) -> BTreeMap<String, String> {
        serde_json::from_str(json).expect("a locale file is a flat object of texts")
    }

    /// The names of the values a text puts in (`{{ name }}`), sorted.
    fn values(text: &str) -> Vec<&str> {
        let mut names: Vec<&str> = text
            .split("{{")
            .skip(1)
            .filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn both_languages_have_every_text_with_the_same_values() {
        let tr = texts(include_str!("../locales/tr.json"));
        let en = texts(include_str!("../locales/en.json"));
        assert_eq!(tr.keys().collect::<Vec<_>>(), en.keys().collect::<Vec<_>>());
        for (key, text) in &tr {
            assert_eq!(values(text), values(&en[key]), "{key}");
        }
        assert_eq!(values(&en["lesson_tally"]), ["attended", "held", "missed"]);
    }

    #[test]
    fn values_go_where_the_language_puts_them() {
        assert_eq!(
            td_string!(Locale::tr, page_of, page = 2, pages = 7),
            "2 / 7"
        );
        assert_eq!(
            td_string!(Locale::en, page_of, page = 2, pages = 7),
            "page 2 of 7"
        );
        assert_eq!(td_string!(Locale::tr, app_name), "ATTN");
    }

    #[test]
    fn every_text_differs_by_language_where_it_should() {
        assert_ne!(
            td_string!(Locale::tr, not_logged_in),
            td_string!(Locale::en, not_logged_in)
        );
        assert_eq!(
            td_string!(Locale::tr, app_name),
            td_string!(Locale::en, app_name)
        );
    }
}
