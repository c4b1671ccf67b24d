//! The pages' query parameters, parsed once into what each page takes. A parameter a page does not know
//! is refused with a 400 that names it, as the API refuses one, so that a mistyped link fails loudly.

use std::collections::HashMap;

use events::value::Date;
use projections::GroupBy;

use super::words::Lang;
use crate::http::problem::Problem;

/// `GET /`: the day the figures are as of, the table's grouping and the language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DashboardQuery {
    pub lang: Lang,
    /// `None`: today in Vietnam.
    pub as_of: Option<Date>,
    /// Never `All`: the table has a row per group, so `group_by=all`, like no `group_by`, is by agency.
    pub group_by: GroupBy,
}

impl DashboardQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, Problem> {
        only(q, &["as_of", "group_by", "lang"])?;
        let as_of = q.get("as_of").map(|v| Date::parse(v).map_err(|e| Problem::bad_request("as_of", e))).transpose()?;
        let group_by = match q.get("group_by") {
            None => GroupBy::Agency,
            Some(v) => match GroupBy::parse(v).map_err(|e| Problem::bad_request("group_by", e))? {
                GroupBy::All => GroupBy::Agency,
                by => by,
            },
        };
        Ok(Self { lang: lang(q), as_of, group_by })
    }
}

/// `GET /catalogue`: a search (diacritics ignored) and filters that match exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatalogueQuery {
    pub lang: Lang,
    /// What was typed, as typed (the search box shows it again).
    pub q: Option<String>,
    pub agency: Option<String>,
    pub sector: Option<String>,
    pub level: Option<String>,
}

impl CatalogueQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, Problem> {
        only(q, &["q", "agency", "sector", "level", "lang"])?;
        Ok(Self {
            lang: lang(q),
            q: q.get("q").cloned(),
            agency: q.get("agency").cloned(),
            sector: q.get("sector").cloned(),
            level: q.get("level").cloned(),
        })
    }
}

/// `GET /catalogue/{code}`: the language only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryQuery {
    pub lang: Lang,
}

impl EntryQuery {
    pub fn parse(q: &HashMap<String, String>) -> Result<Self, Problem> {
        only(q, &["lang"])?;
        Ok(Self { lang: lang(q) })
    }
}

/// Vietnamese unless `lang=en`: any other value is not an error, since the page reads well either way.
fn lang(q: &HashMap<String, String>) -> Lang {
    Lang::from_query(q.get("lang").map(String::as_str))
}

/// Refuses a parameter that is not `known` (the first by name, so that the answer does not depend on the
/// hash map's order). `token` is always allowed: a browser can send its token only in the query.
fn only(q: &HashMap<String, String>, known: &[&str]) -> Result<(), Problem> {
    match q.keys().filter(|k| k.as_str() != "token" && !known.contains(&k.as_str())).min() {
        Some(unknown) => {
            Err(Problem::bad_request(unknown, format!("unknown parameter; this endpoint takes {}", known.join(", "))))
        }
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// The status and the body of a refusal.
    async fn refusal(p: Problem) -> (u16, String) {
        let response = p.into_response();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap_or_default();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[test]
    fn the_dashboard_is_by_agency_today_in_vietnamese_unless_asked_otherwise() {
        let q = DashboardQuery::parse(&query(&[])).unwrap();
        assert_eq!(q, DashboardQuery { lang: Lang::Vi, as_of: None, group_by: GroupBy::Agency });
        let q = DashboardQuery::parse(&query(&[("group_by", "all"), ("token", "t")])).unwrap();
        assert_eq!(q.group_by, GroupBy::Agency, "a table of one row would say nothing");
        let q = DashboardQuery::parse(&query(&[("as_of", "2013-12-31"), ("group_by", "sector"), ("lang", "en")]));
        assert_eq!(
            q.unwrap(),
            DashboardQuery { lang: Lang::En, as_of: Date::parse("2013-12-31").ok(), group_by: GroupBy::Sector }
        );
    }

    #[tokio::test]
    async fn a_bad_or_unknown_parameter_is_a_400_that_names_it() {
        let (status, body) = refusal(DashboardQuery::parse(&query(&[("as_of", "2011-13-45")])).unwrap_err()).await;
        assert_eq!(status, 400);
        assert!(body.contains(r#""field":"as_of""#), "{body}");
        let (status, body) = refusal(DashboardQuery::parse(&query(&[("group_by", "planet")])).unwrap_err()).await;
        assert_eq!(status, 400);
        assert!(body.contains(r#""field":"group_by""#), "{body}");
        let unknown = query(&[("zeta", "1"), ("alpha", "2"), ("lang", "en")]);
        let (status, body) = refusal(CatalogueQuery::parse(&unknown).unwrap_err()).await;
        assert_eq!(status, 400);
        assert!(body.contains(r#""field":"alpha""#), "the first unknown by name: {body}");
        assert!(body.contains("this endpoint takes q, agency, sector, level, lang"), "{body}");
        assert!(EntryQuery::parse(&query(&[("q", "x")])).is_err(), "an entry takes no search");
    }

    #[test]
    fn the_catalogue_keeps_what_was_typed() {
        let q = CatalogueQuery::parse(&query(&[("q", "Hộ tịch"), ("agency", "STP"), ("token", "t")])).unwrap();
        assert_eq!(
            q,
            CatalogueQuery { q: Some("Hộ tịch".into()), agency: Some("STP".into()), ..CatalogueQuery::default() }
        );
        assert_eq!(EntryQuery::parse(&query(&[("lang", "fr")])).unwrap().lang, Lang::Vi);
    }
}
