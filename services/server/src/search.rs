//! Search as Vietnamese readers expect it: no case, no diacritics, `đ` read as `d` (`ho tich` finds
//! `Hộ tịch`), in a procedure's code, name, sector or agency. The API's list and the public catalogue
//! search the same way.

use events::Procedure;

/// Folds text for search: no case, no Vietnamese diacritics, `đ` read as `d`.
pub fn fold(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// What a search looks for, folded once.
#[derive(Clone, Debug)]
pub struct Needle(String);

impl Needle {
    pub fn new(query: &str) -> Self {
        Self(fold(query))
    }

    /// Nothing to look for (an empty or blank query folds to nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the search is in the procedure's code, name, sector or agency.
    pub fn finds(&self, p: &Procedure) -> bool {
        [p.code.as_str(), p.name.as_str(), p.sector.as_str(), p.agency.as_str()]
            .iter()
            .any(|h| fold(h).contains(&self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_ignores_case_diacritics_and_reads_đ_as_d() {
        assert!(fold("Đăng ký khai sinh").contains(&fold("dang ky")));
        assert!(fold("Hộ tịch").contains(&fold("ho tich")));
        assert!(fold("HỘ TỊCH").contains(&fold("hộ tịch")));
        assert!(!fold("Xây dựng").contains(&fold("ho tich")));
    }
}
