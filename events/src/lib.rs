//! The p30 domain: procedures, the event catalogue, commands and the decider — pure, with no I/O and no
//! clock (time comes in as a value).

/// Implements `Serialize` for a struct with optional fields: an absent field is left out of the JSON form
/// (human-readable serialisers) but always written in the stored encoding. Postcard is not self-describing,
/// so a field skipped there would make the reader take the next field's bytes for it.
macro_rules! serialize_leaving_out_absent {
    ($ty:ident { $($required:ident),* ; $($optional:ident),+ $(,)? }) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                let human = s.is_human_readable();
                let required = <[&str]>::len(&[$(stringify!($required)),*]);
                let optional = [$(self.$optional.is_some()),+];
                let len = required + optional.iter().filter(|&&present| present || !human).count();
                let mut out = s.serialize_struct(stringify!($ty), len)?;
                $( out.serialize_field(stringify!($required), &self.$required)?; )*
                $(
                    if human && self.$optional.is_none() {
                        out.skip_field(stringify!($optional))?;
                    } else {
                        out.serialize_field(stringify!($optional), &self.$optional)?;
                    }
                )+
                out.end()
            }
        }
    };
}

pub mod codec;
pub mod decide;
pub mod event;
pub mod procedure;
#[cfg(feature = "openapi")]
pub mod schema;
pub mod value;

pub use decide::{Command, FieldError, History, Refusal, RuleBroken, Status, decide};
pub use event::{Change, Event, NewEvent, SCHEMA_VERSION, StreamId};
pub use procedure::{Changes, Document, Estimates, Procedure};
