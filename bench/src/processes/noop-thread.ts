/** A thread handler that does nothing: what starting a thread per attempt costs by itself. */
import { defineThreadHandler } from '@tasks/runtime/handler';

export default defineThreadHandler(() => () => Promise.resolve(null));
