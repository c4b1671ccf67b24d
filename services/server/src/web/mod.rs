//! The pages people read: the dashboard at `/` (reform leaders) and the public catalogue at
//! `/catalogue` (citizens and businesses), rendered on the server as semantic HTML with SVG charts, in
//! Vietnamese first (`?lang=en` for English), live through `/v1/subscribe`.
//!
//! The HTML is written with maud, so text is escaped by construction; the pages read the projection's
//! typed values (`ProgrammeProgress`, `Group`, `ProcedureView`), never the API's JSON. The style and the
//! script are files under `assets/`, inlined in every page. Words (labels, numbers, dates, histories) are
//! in `words`.
//!
//! - `page`: the frame every page shares, links, SVG's empty elements.
//! - `query`: each page's query parameters, parsed.
//! - `dashboard` and `chart`: `GET /`.
//! - `catalogue`: `GET /catalogue` and `GET /catalogue/{code}`.
//! - `routes`: their routes and descriptions, added to the API's router.

mod catalogue;
mod chart;
mod dashboard;
mod page;
mod query;
pub mod routes;
pub mod words;

pub use catalogue::{catalogue, catalogue_entry};
pub use dashboard::dashboard;
