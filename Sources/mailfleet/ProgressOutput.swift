import Foundation
import MailfleetCore
#if canImport(Glibc)
import Glibc
#endif

/// Long work's progress on stderr: a bar redrawn in place on a terminal, a plain line per
/// step otherwise (a log or a pipe), so stdout stays the command's answer.
struct ProgressOutput: Sendable {
    let isTerminal = isatty(STDERR_FILENO) == 1

    func show(_ progress: WorkProgress) {
        if isTerminal {
            write("\r" + progress.bar())
        } else if progress.steps > 0 {
            write(progress.line + "\n")
        }
    }

    /// A message between updates, on a line of its own.
    func note(_ text: String) {
        write((isTerminal ? "\n" : "") + text + "\n")
    }

    func finish() {
        if isTerminal { write("\n") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
