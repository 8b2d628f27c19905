import SQLiteStore
import Testing

@Suite struct BackupTests {
    @Test func aBackupInSlicesIncludesWritesMadeThroughTheSourceBetweenSlices() throws {
        try withTemporaryDirectory { directory in
            let source = try Database(path: directory + "/state.db")
            try source.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
            try source.transaction {
                for index in 0..<2000 { try source.execute("INSERT INTO item (text) VALUES (?)", [.text(String(repeating: "x", count: 200) + "\(index)")]) }
            }
            let backup = try Backup(from: source, to: directory + "/copy.db")
            var slices = 0
            while try !backup.step(pages: 10) {
                slices += 1
                // The daemon keeps writing between slices, through the same connection.
                try source.execute("INSERT INTO item (text) VALUES (?)", [.text("during slice \(slices)")])
            }
            #expect(slices > 5)
            #expect(backup.remainingPages == 0 && backup.totalPages > 50)
            try backup.finish()
            try backup.finish()  // idempotent

            let copy = try Database(path: directory + "/copy.db")
            let count = try copy.queryOne("SELECT count(*) AS n FROM item")?.int("n")
            #expect(count == Int64(2000 + slices))
            #expect(try copy.queryOne("PRAGMA integrity_check")?.text("integrity_check") == "ok")
        }
    }

    @Test func aBackupIntoAFolderThatDoesNotExistNamesTheFile() throws {
        try withTemporaryDirectory { directory in
            let source = try Database(path: directory + "/state.db")
            #expect { try Backup(from: source, to: directory + "/missing/copy.db") } throws: {
                "\($0)".contains("opening the backup file \(directory)/missing/copy.db")
            }
        }
    }
}
