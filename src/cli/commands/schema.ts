import { scheduleJsonSchema } from "../../schedule/schema.js";
import { type CliIO, endQuietlyOnClosedPipe } from "../io.js";

/** `tdefer schema`: prints the JSON Schema of the schedule file. */
export function schemaCommand(io: CliIO): void {
  endQuietlyOnClosedPipe(io.stdout);
  io.stdout.write(`${JSON.stringify(scheduleJsonSchema(), null, 2)}\n`);
}
