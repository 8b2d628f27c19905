import ArgumentParser
import ControlProtocol
import Foundation

/// Self-contained HTML for the printable pages (`report --html`, `board --html`): inline CSS
/// with print rules for A4, no scripts, no fonts or images from the network.
enum HTMLPage {
    /// Text safe inside HTML elements and attribute values.
    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in ControlCharacters.terminalSafe(text).unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// A whole page: `body` is already HTML.
    static func document(title: String, language: Language, landscape: Bool = false, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="\(language == .zh ? "zh-CN" : "en")">
        <head>
        <meta charset="utf-8">
        <meta name="generator" content="huaying">
        <title>\(escape(title))</title>
        <style>
        @page { size: A4\(landscape ? " landscape" : ""); margin: 15mm 12mm; }
        body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
               font-size: 10.5pt; color: #111; margin: 0 auto; max-width: \(landscape ? "277mm" : "190mm"); }
        h1 { font-size: 16pt; margin: 0 0 4mm; }
        h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #444; }
        table { border-collapse: collapse; width: 100%; page-break-inside: auto; }
        tr { page-break-inside: avoid; }
        th, td { border: 1px solid #888; padding: 1.2mm 1.5mm; vertical-align: top; text-align: left; }
        th { background: #eee; }
        .meta th { width: 25%; }
        .hash { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all; }
        .late, .overdue { color: #b00020; font-weight: bold; }
        .escalated { color: #b25d00; font-weight: bold; }
        .ok { color: #1b5e20; font-weight: bold; }
        .small { font-size: 8.5pt; color: #444; }
        footer { margin-top: 6mm; font-size: 8.5pt; color: #444; }
        svg.board { max-width: 100%; height: auto; }
        @media print { body { max-width: none; } a { color: inherit; text-decoration: none; } }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    /// A table: header cells and rows of cells that are already HTML.
    static func table(_ header: [String], _ rows: [[String]], class name: String? = nil) -> String {
        var html = "<table\(name.map { " class=\"\($0)\"" } ?? "")><thead><tr>"
        html += header.map { "<th>\(escape($0))</th>" }.joined()
        html += "</tr></thead><tbody>\n"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>\n" }
        return html + "</tbody></table>"
    }

    /// Writes a page, or reports why it could not (exit 1).
    static func write(_ html: String, to path: String, command: String) throws {
        do {
            try Data(html.utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            printError(Message.errorCommand(command, "\(path): \(error.localizedDescription)"))
            throw ExitCode(ExitStatus.failed)
        }
    }
}

