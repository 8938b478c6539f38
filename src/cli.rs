pub fn main_for(_app: impl Fn() -> crate::App) {}
