//! Integration tests of the comp engine: reference behaviour of open-source commission modules,
//! plan components, retro deltas, what-if and modelling, plan errors, and invariants.

mod components;
mod fixture;
mod plan_errors;
mod properties;
mod reference;
mod retro;
