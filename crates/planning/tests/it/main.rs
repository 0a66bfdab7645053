//! Integration tests of the planning engines.

mod balance;
mod capacity;
mod quota;
mod rules;
