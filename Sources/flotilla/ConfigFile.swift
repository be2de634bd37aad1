import ArgumentParser
import Foundation

/// Reads the flat subset of TOML that `flotilla server --config` takes: `key = "string"`, `key = number`,
/// `key = true|false`, `#` comments. Keys are the long flag names (`node-id`, `data-dir`, ...; `_` works too).
enum ConfigFile {
    static func load(_ path: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ValidationError("cannot read the config file \(path)")
        }
        var values: [String: String] = [:]
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else {
                throw ValidationError("\(path):\(number + 1): expected key = value, found '\(trimmed)'")
            }
            let key = parts[0].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "-")
            var value = parts[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            values[key] = value
        }
        return values
    }
}
