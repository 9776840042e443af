import { MemoryLedger } from "../../src/ledger/memory.js";
import { describeLedgerContract } from "./contract.js";

describeLedgerContract("MemoryLedger", async (now) => new MemoryLedger("nightly", now));
