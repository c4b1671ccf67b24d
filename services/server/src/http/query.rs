//! Query parameters: only known ones, each parsed with a 400 that names it.

use std::collections::HashMap;

use events::value::{Date, Timestamp};
use projections::{GroupBy, Moment};

use super::problem::Problem;

/// The parameters of one request.
#[derive(Debug)]
pub struct Params(pub HashMap<String, String>);

impl Params {
    /// Refuses parameters the endpoint does not know (`token` is always allowed, for browsers).
    pub fn only(self, known: &[&str]) -> Result<Self, Problem> {
        if let Some(k) = self.0.keys().find(|k| k.as_str() != "token" && !known.contains(&k.as_str())) {
            return Err(Problem::bad_request(
                k,
                format!("unknown parameter; this endpoint takes {}", known.join(", ")),
            ));
        }
        Ok(self)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn date(&self, name: &str) -> Result<Option<Date>, Problem> {
        self.get(name).map(|v| Date::parse(v).map_err(|e| Problem::bad_request(name, e))).transpose()
    }

    /// A transaction time: RFC 3339 with an offset, or a date meaning the end of that day in Vietnam.
    pub fn time(&self, name: &str) -> Result<Option<Timestamp>, Problem> {
        self.get(name).map(|v| Timestamp::parse_known_at(v).map_err(|e| Problem::bad_request(name, e))).transpose()
    }

    /// `as_of` (default today in Vietnam) and `known_at` (default now).
    pub fn moment(&self) -> Result<Moment, Problem> {
        Ok(crate::live::Live::moment(self.date("as_of")?, self.time("known_at")?))
    }

    pub fn number(&self, name: &str, default: u64, min: u64, max: u64) -> Result<u64, Problem> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .ok_or_else(|| Problem::bad_request(name, format!("must be a whole number from {min} to {max}"))),
        }
    }

    pub fn group_by(&self) -> Result<GroupBy, Problem> {
        self.get("group_by")
            .map_or(Ok(GroupBy::All), |v| GroupBy::parse(v).map_err(|e| Problem::bad_request("group_by", e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_at_date_is_the_end_of_that_day_in_vietnam() {
        let p = Params([("known_at".to_owned(), "2014-06-01".to_owned())].into());
        let t = p.time("known_at").unwrap().unwrap();
        assert_eq!(t.to_string(), "2014-06-01T16:59:59.999999Z");
    }
}
