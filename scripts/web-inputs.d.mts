/** Types of scripts/web-inputs.mjs, for the tests that import it. */
export declare const STAMP: string;
export declare function webInputs(webDir: string): string[];
export declare function webInputsHash(webDir: string): string;
export declare function builtFromHash(webDir: string): string | undefined;
