import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import iconv from "iconv-lite"
import type { CsvConfigEncoded } from "../src/CsvConfig.js"
import * as CsvReader from "../src/CsvReader.js"
import { decode, tempDir, write } from "./fixtures.js"

const readAll = (file: string, config: CsvConfigEncoded, timezone = "Europe/Berlin") =>
  Stream.runCollect(CsvReader.events(file, decode(config), { timezone })).pipe(
    Effect.map((events) => {
      const chunks = Chunk.toReadonlyArray(events).filter((e): e is CsvReader.CsvChunk => e._tag === "Chunk")
      const header = Chunk.toReadonlyArray(events).find((e): e is CsvReader.CsvHeader => e._tag === "Header")
      return {
        header,
        chunks,
        contacts: chunks.flatMap((c) => c.batch.contacts),
        aggregates: chunks.flatMap((c) => c.batch.aggregates),
        statuses: chunks.flatMap((c) => c.batch.statuses),
        problems: chunks.flatMap((c) => c.problems.map((p) => ({ line: p.line, column: p.column, reason: p.reason }))),
        rows: chunks.reduce((n, c) => n + c.rows, 0)
      }
    })
  )

const iso = (d: DateTime.Utc) => DateTime.formatIso(d)

const contacts = (folder: string, extra: Record<string, unknown> = {}): CsvConfigEncoded =>
  ({
    source: { folder },
    layout: "contacts",
    channel: "calls",
    columns: { queueIdentifier: "Queue", queueName: "Name", timestamp: "Start", handled: "Handled", duration: "Duration" },
    ...extra
  }) as CsvConfigEncoded

describe("CsvReader: contact-based files", () => {
  it.scoped("reads names, ISO timestamps with and without offsets, flags and decimal seconds", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "a.csv",
        "Queue,Name,Start,Handled,Duration\n" +
          "1337_99,Level 1 support,2026-03-02T09:14:00Z,1,200.1\n" +
          "1337_99,Level 1 support,2026-03-02T10:14:00+01:00,yes,0.0005\n" +
          "1337_99,Level 1 support,2026-03-02 09:20:00,0,\n"
      )
      const r = yield* readAll(file, contacts(dir))
      assert.deepStrictEqual(r.problems, [])
      assert.deepStrictEqual(r.contacts.map((c) => [iso(c.timestamp), c.handled, c.durationMs, c.offered]), [
        ["2026-03-02T09:14:00.000Z", true, 200_100, true],
        ["2026-03-02T09:14:00.000Z", true, 1, true],
        // no offset: Europe/Berlin (UTC+1 in March before the change)
        ["2026-03-02T08:20:00.000Z", false, 0, true]
      ])
      assert.strictEqual(r.contacts[0]!.queueName, "Level 1 support")
      assert.strictEqual(r.contacts[0]!.channel, "calls")
      assert.strictEqual(r.header?.delimiter, ",")
    }))

  it.scoped("quoted fields keep embedded newlines, delimiters and doubled quotes; line numbers stay right", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "q.csv",
        "Queue,Name,Start,Handled,Duration\n" +
          "q1,\"Support,\nsecond line\",2026-03-02T09:00:00Z,1,10\n" +
          "q2,\"He said \"\"hi\"\"\",2026-03-02T09:00:00Z,1,20\n" +
          "\n" +
          "q3,\"multi\nline\nname\",not a time,1,30\n" +
          "q4,ok,2026-03-02T09:00:00Z,1,40\n"
      )
      const r = yield* readAll(file, contacts(dir))
      assert.deepStrictEqual(r.contacts.map((c) => c.queueName), ["Support,\nsecond line", "He said \"hi\"", "ok"])
      assert.deepStrictEqual(r.problems, [{
        line: 6,
        column: "Start",
        reason: "\"not a time\" is not a timestamp (expected an ISO-8601 timestamp such as 2026-03-02T09:15:00)"
      }])
      assert.strictEqual(r.chunks.at(-1)!.lastLine, 9)
    }))

  it.scoped("patterns, separate date and time columns, epoch seconds, hh:mm:ss and ms durations", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const german = write(dir, "de.csv", "Queue;Name;Start;Handled;Duration\nq;n;02.03.2026 09:15;1;00:03:20\n")
      const a = yield* readAll(german, contacts(dir, { timestampFormat: "DD.MM.YYYY HH:mm", durationFormat: "hh:mm:ss" }))
      assert.deepStrictEqual(a.contacts.map((c) => [iso(c.timestamp), c.durationMs]), [["2026-03-02T08:15:00.000Z", 200_000]])

      const split = write(dir, "split.csv", "Queue,Name,Date,Time,Handled,Duration\nq,n,2026-07-01,09:15:30,1,1500\n")
      const b = yield* readAll(
        split,
        {
          ...contacts(dir, { timestampFormat: "YYYY-MM-DD HH:mm:ss", durationFormat: "ms" }),
          columns: {
            queueIdentifier: "Queue",
            queueName: "Name",
            timestamp: { date: "Date", time: "Time" },
            handled: "Handled",
            duration: "Duration"
          }
        } as CsvConfigEncoded
      )
      assert.deepStrictEqual(b.contacts.map((c) => [iso(c.timestamp), c.durationMs]), [["2026-07-01T07:15:30.000Z", 1500]])

      const epoch = write(dir, "epoch.csv", "Queue,Name,Start,Handled,Duration\nq,n,1772442900,1,12.5\n")
      const c = yield* readAll(epoch, contacts(dir, { timestampFormat: "epoch-seconds" }))
      assert.deepStrictEqual(c.contacts.map((x) => [iso(x.timestamp), x.durationMs]), [["2026-03-02T09:15:00.000Z", 12_500]])
    }))

  it.scoped("a timestamp in the spring-forward gap is rejected with its line; the repeated hour is read", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "dst.csv",
        "Queue,Name,Start,Handled,Duration\n" +
          "q,n,2026-03-29 01:59:59,1,1\n" +
          "q,n,2026-03-29 02:30:00,1,1\n" +
          "q,n,2026-03-29 03:00:00,1,1\n" +
          "q,n,2026-10-25 02:30:00,1,1\n"
      )
      const r = yield* readAll(file, contacts(dir, { timestampFormat: "YYYY-MM-DD HH:mm:ss" }))
      assert.deepStrictEqual(r.contacts.map((c) => iso(c.timestamp)), [
        "2026-03-29T00:59:59.000Z",
        "2026-03-29T01:00:00.000Z",
        // the first 02:30 of the repeated hour (CEST)
        "2026-10-25T00:30:00.000Z"
      ])
      assert.strictEqual(r.problems.length, 1)
      assert.strictEqual(r.problems[0]!.line, 3)
      assert.strictEqual(r.problems[0]!.column, "Start")
      assert.match(r.problems[0]!.reason, /does not exist in Europe\/Berlin/)
    }))

  it.scoped("bad rows are reported with line, column and reason; good rows still read", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "bad.csv",
        "Queue,Name,Start,Handled,Duration\n" +
          "q,n,2026-03-02T09:00:00Z,1,10\n" +
          ",n,2026-03-02T09:00:00Z,1,10\n" +
          "q,n,2026-03-02T09:00:00Z,maybe,10\n" +
          "q,n,2026-03-02T09:00:00Z,1,-5\n" +
          "q,n,2026-03-02T09:00:00Z,1,ten\n" +
          "q,n,2026-03-02T09:00:00Z\n" +
          "q,n,2026-02-30T09:00:00Z,1,10\n" +
          "q,n,2026-03-02T09:00:00Z,1,10\n"
      )
      const r = yield* readAll(file, contacts(dir))
      assert.strictEqual(r.contacts.length, 2)
      assert.strictEqual(r.rows, 8)
      assert.deepStrictEqual(r.problems, [
        { line: 3, column: "Queue", reason: "queue identifier is empty" },
        {
          line: 4,
          column: "Handled",
          reason: "\"maybe\" is not a yes/no value (1/0, true/false, yes/no, x or empty)"
        },
        { line: 5, column: "Duration", reason: "\"-5\" is negative; durations must be ≥ 0" },
        { line: 6, column: "Duration", reason: "\"ten\" is not a number of seconds (e.g. 12.5)" },
        { line: 7, column: "Handled", reason: "missing: the row has 3 fields" },
        { line: 8, column: "Start", reason: "\"2026-02-30T09:00:00Z\" is not a valid date and time" }
      ])
    }))

  it.scoped("a broken quote is reported at its line and the parser goes on", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "quote.csv",
        "Queue,Name,Start,Handled,Duration\n" +
          "q,n,2026-03-02T09:00:00Z,1,10\n" +
          "q,\"bad\"x,2026-03-02T09:00:00Z,1,10\n"
      )
      const r = yield* readAll(file, contacts(dir))
      assert.strictEqual(r.contacts.length, 1)
      assert.deepStrictEqual(r.problems, [{ line: 3, column: "Name", reason: "Invalid Closing Quote: got \"x\"" }])
    }))

  it.scoped("columns missing from the header stop the file before any row", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(dir, "m.csv", "Queue,Start,Handled\nq,2026-03-02T09:00:00Z,1\n")
      const r = yield* readAll(file, contacts(dir))
      assert.strictEqual(r.contacts.length, 0)
      assert.isTrue(r.chunks[0]!.fatal)
      assert.deepStrictEqual(r.problems.map((p) => [p.line, p.column]), [[1, "Name"], [1, "Duration"]])
      assert.match(r.problems[0]!.reason, /not in the header \(found: Queue, Start, Handled\)/)
    }))

  it.scoped("without a header row, columns are 1-based numbers", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(dir, "nh.csv", "q7|2026-03-02T09:00:00Z|x|3\n")
      const r = yield* readAll(file, {
        source: { folder: dir },
        layout: "contacts",
        header: false,
        delimiter: "|",
        channel: "chats",
        columns: { queueIdentifier: 1, timestamp: 2, handled: 3, duration: 4 }
      })
      assert.deepStrictEqual(r.problems, [])
      assert.deepStrictEqual(
        r.contacts.map((c) => [c.queueIdentifier, c.queueName, c.channel, c.handled, c.durationMs]),
        [["q7", "q7", "chats", true, 3000]]
      )
    }))

  it.scoped("channels from a column, mapped values and wire values; unknown ones are rejected", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "ch.csv",
        "Queue,Name,Start,Handled,Duration,Medium\n" +
          "q,n,2026-03-02T09:00:00Z,1,1,Voice\n" +
          "q,n,2026-03-02T09:00:00Z,1,1,Social Media\n" +
          "q,n,2026-03-02T09:00:00Z,1,1,\n" +
          "q,n,2026-03-02T09:00:00Z,1,1,Pigeon\n"
      )
      const config = contacts(dir, { channelValues: { voice: "calls" } })
      const r = yield* readAll(file, {
        ...config,
        columns: { ...(config as { columns: object }).columns, channel: "Medium" }
      } as CsvConfigEncoded)
      assert.deepStrictEqual(r.contacts.map((c) => c.channel), ["calls", "social_media", "calls"])
      assert.deepStrictEqual(r.problems.map((p) => [p.line, p.column]), [[5, "Medium"]])
    }))
})

describe("CsvReader: encodings and delimiters", () => {
  const text = "Warteschlange;Name;Start;Angenommen;Dauer\nq1;Büro Süd – Größe;02.03.2026 09:15;ja;12,5\n"
  const config = (folder: string, extra: Record<string, unknown> = {}): CsvConfigEncoded =>
    ({
      source: { folder },
      layout: "contacts",
      channel: "calls",
      decimalComma: true,
      timestampFormat: "DD.MM.YYYY HH:mm",
      columns: {
        queueIdentifier: "Warteschlange",
        queueName: "Name",
        timestamp: "Start",
        handled: "Angenommen",
        duration: "Dauer"
      },
      ...extra
    }) as CsvConfigEncoded

  it.scoped("UTF-8 with and without BOM", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      for (const [name, content] of [["bom.csv", `\uFEFF${text}`], ["plain.csv", text]] as const) {
        const r = yield* readAll(write(dir, name, Buffer.from(content, "utf8")), config(dir))
        assert.deepStrictEqual(r.problems, [])
        assert.deepStrictEqual(r.header?.columns?.[0], "Warteschlange")
        assert.deepStrictEqual(r.contacts.map((c) => [c.queueName, c.durationMs]), [["Büro Süd – Größe", 12_500]])
      }
    }))

  it.scoped("Windows-1252 umlauts through iconv-lite", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const bytes = iconv.encode(text, "windows-1252")
      assert.strictEqual(bytes.includes(Buffer.from("ü", "utf8")), false)
      const r = yield* readAll(write(dir, "win.csv", bytes), config(dir, { encoding: "windows-1252" }))
      assert.deepStrictEqual(r.problems, [])
      assert.deepStrictEqual(r.contacts.map((c) => c.queueName), ["Büro Süd – Größe"])
    }))

  it.scoped("auto-detects comma, semicolon, tab and pipe, also with quoted delimiters and newlines", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      for (const d of [",", ";", "\t", "|"]) {
        const others = [",", ";", "\t", "|"].filter((x) => x !== d)
        const name = `"Level ${others.join(" ")}\nsecond"`
        const content = ["Queue", "Name", "Start", "Handled", "Duration"].join(d) + "\n" +
          ["q1", name, "2026-03-02T09:00:00Z", "1", "5"].join(d) + "\n" +
          ["q2", "plain", "2026-03-02T09:15:00Z", "0", "0"].join(d) + "\n"
        const r = yield* readAll(write(dir, `d${d.charCodeAt(0)}.csv`, content), contacts(dir))
        assert.strictEqual(r.header?.delimiter, d)
        assert.deepStrictEqual(r.problems, [])
        assert.deepStrictEqual(r.contacts.map((c) => c.queueIdentifier), ["q1", "q2"])
      }
    }))

  it.scoped("decimal comma for durations and counts", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const r = yield* readAll(write(dir, "dc.csv", Buffer.from(text, "utf8")), config(dir, { delimiter: ";" }))
      assert.strictEqual(r.contacts[0]!.durationMs, 12_500)
      const wrong = yield* readAll(
        write(dir, "dc2.csv", Buffer.from(text.replace("12,5", "12.5"), "utf8")),
        config(dir, { delimiter: ";" })
      )
      assert.deepStrictEqual(wrong.problems.map((p) => [p.line, p.column]), [[2, "Dauer"]])
    }))
})

describe("CsvReader: interval-based files and agent statuses", () => {
  it.scoped("interval rows: counts and second sums; unaligned starts rejected; repeated hour gives two intervals", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "iv.csv",
        "Queue;Interval;Offered;Handled;Handling;Unhandled\n" +
          "q1;2026-03-02 09:00;10;8;00:20:00;00:01:00\n" +
          "q1;2026-03-02 09:07;1;1;0;0\n" +
          "q1;2026-10-25 02:00;3;3;60;0\n" +
          "q1;2026-10-25 02:00;4;4;120;0\n"
      )
      const r = yield* readAll(file, {
        source: { folder: dir },
        layout: "intervals",
        channel: "emails",
        timestampFormat: "YYYY-MM-DD HH:mm",
        durationFormat: "hh:mm:ss",
        columns: {
          queueIdentifier: "Queue",
          intervalStart: "Interval",
          offered: "Offered",
          handled: "Handled",
          handlingTime: "Handling",
          unhandledTime: "Unhandled"
        }
      })
      assert.deepStrictEqual(r.problems.map((p) => [p.line, p.column]), [[3, "Interval"], [4, "Handling"], [5, "Handling"]])
      assert.strictEqual(r.aggregates.length, 1)
      const a = r.aggregates[0]!
      assert.deepStrictEqual(
        [iso(a.start), a.lengthMinutes, a.offered, a.handled, a.handlingMs, a.unhandledMs, a.channel],
        ["2026-03-02T08:00:00.000Z", 15, 10, 8, 1_200_000, 60_000, "emails"]
      )

      const seconds = yield* readAll(file, {
        source: { folder: dir },
        layout: "intervals",
        channel: "emails",
        timestampFormat: "YYYY-MM-DD HH:mm",
        columns: { queueIdentifier: "Queue", intervalStart: "Interval", offered: "Offered", handled: "Handled", handlingTime: "Handling" }
      })
      assert.deepStrictEqual(seconds.aggregates.map((x) => [iso(x.start), x.offered, x.handlingMs]), [
        ["2026-10-25T00:00:00.000Z", 3, 60_000],
        ["2026-10-25T01:00:00.000Z", 4, 120_000]
      ])
    }))

  it.scoped("agent statuses with an end, a duration, or open", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const file = write(
        dir,
        "st.csv",
        "Agent,Activity,Start,End,Seconds\n" +
          "a-7,BREAK,2026-03-02T09:00:00Z,2026-03-02T09:15:00Z,\n" +
          "a-7,READY,2026-03-02T09:15:00Z,,300\n" +
          "a-8,READY,2026-03-02T09:20:00Z,,\n" +
          "a-9,READY,2026-03-02T09:20:00Z,2026-03-02T09:10:00Z,\n"
      )
      const r = yield* readAll(file, {
        source: { folder: dir },
        layout: "agentStatuses",
        columns: { agentId: "Agent", activityId: "Activity", start: "Start", end: "End", duration: "Seconds" }
      })
      assert.deepStrictEqual(
        r.statuses.map((s) => [s.agentIdentifier, s.activityIdentifier, iso(s.start), s.end === null ? null : iso(s.end)]),
        [
          ["a-7", "BREAK", "2026-03-02T09:00:00.000Z", "2026-03-02T09:15:00.000Z"],
          ["a-7", "READY", "2026-03-02T09:15:00.000Z", "2026-03-02T09:20:00.000Z"],
          ["a-8", "READY", "2026-03-02T09:20:00.000Z", null]
        ]
      )
      assert.deepStrictEqual(r.problems, [{ line: 5, column: "End", reason: "the end is before the start" }])
    }))

  it.scoped("chunks of chunkSize rows", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      let content = "Queue,Name,Start,Handled,Duration\n"
      for (let i = 0; i < 25; i++) content += `q,n,2026-03-02T09:00:00Z,1,${i}\n`
      const r = yield* readAll(write(dir, "c.csv", content), contacts(dir, { chunkSize: 10 }))
      assert.deepStrictEqual(r.chunks.map((c) => [c.rows, c.lastLine]), [[10, 11], [10, 21], [5, 26]])
    }))
})

describe("CsvConfig", () => {
  it("rejects names without a header, a missing channel, statuses without end, a decimal comma with comma delimiter", () => {
    const base = { source: { folder: "/x" }, layout: "contacts", channel: "calls" }
    const columns = { queueIdentifier: "Q", timestamp: "T", handled: "H" }
    const message = (config: unknown) => {
      try {
        decode(config as CsvConfigEncoded)
        return "decoded"
      } catch (e) {
        return e instanceof Error ? e.message : String(e)
      }
    }
    assert.match(message({ ...base, header: false, columns }), /no header row, so columns are numbers/)
    assert.match(message({ ...base, channel: undefined, columns }), /set a channel column/)
    assert.match(
      message({ source: { folder: "/x" }, layout: "agentStatuses", columns: { agentId: 1, activityId: 2, start: 3 } }),
      /need an end column or a duration column/
    )
    assert.match(message({ ...base, delimiter: ",", decimalComma: true, columns }), /decimal comma needs another delimiter/)
    assert.match(message({ ...base, encoding: "klingon", columns }), /not an encoding/)
    assert.match(message({ ...base, timestampFormat: "HH:mm", columns }), /not a timestamp format/)
    assert.match(message({ ...base, timezone: "Mars/Olympus", columns }), /not an IANA time zone/)
    assert.strictEqual(message({ ...base, columns }), "decoded")
  })
})
