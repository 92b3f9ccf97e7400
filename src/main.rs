fn main() {
    std::process::exit(wirewalk::cli::run());
}
