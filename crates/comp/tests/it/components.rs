//! Plan components one by one.
