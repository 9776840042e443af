import type { Command } from "commander";
import { scheduleJsonSchema } from "../../schedule/schema.js";
import { type CliIO, endQuietlyOnClosedPipe } from "../io.js";

export function addSchemaCommand(program: Command, io: CliIO): void {
  program
    .command("schema")
    .description(
      "print the JSON Schema of the schedule file (draft-07, for editors via yaml-language-server)",
    )
    .action(() => {
      endQuietlyOnClosedPipe(io.stdout);
      io.stdout.write(`${JSON.stringify(scheduleJsonSchema(), null, 2)}\n`);
    });
}
