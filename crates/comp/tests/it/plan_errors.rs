//! Plan text errors name line, column and field.
