//! Integration tests of the planning engines.

mod balance;
