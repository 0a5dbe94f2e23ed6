// Starts `reviewer lsp` for the workspace: from the configured interpreter
// (`python -m reviewer lsp`) or, when none is set, `reviewer lsp` on PATH.
import * as path from "path";
import { ExtensionContext, workspace } from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

function serverCommand(): { command: string; args: string[] } {
  const configured = workspace.getConfiguration("reviewer").get<string>("interpreter", "");
  if (!configured) {
    return { command: "reviewer", args: ["lsp"] };
  }
  const folder = workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
  const interpreter = path.isAbsolute(configured) ? configured : path.join(folder, configured);
  return { command: interpreter, args: ["-m", "reviewer", "lsp"] };
}

export async function activate(context: ExtensionContext): Promise<void> {
  const run = serverCommand();
  const serverOptions: ServerOptions = { run, debug: run };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "python" },
      { scheme: "file", language: "javascript" },
      { scheme: "file", language: "typescript" },
      { scheme: "file", language: "go" },
      { scheme: "untitled", language: "python" },
    ],
    initializationOptions: {
      onlyChanged: workspace.getConfiguration("reviewer").get<boolean>("onlyChanged", false),
    },
  };
  client = new LanguageClient("reviewer", "reviewer", serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  if (client !== undefined) {
    await client.stop();
  }
}
