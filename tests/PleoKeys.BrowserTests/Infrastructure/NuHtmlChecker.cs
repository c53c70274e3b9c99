using System.Diagnostics;
using System.Text.Json;

namespace PleoKeys.BrowserTests.Infrastructure;

/// <summary>
/// The Nu HTML Checker (https://validator.github.io/validator/), run as <c>java -jar vnu.jar</c> over pages the app
/// served. The jar comes from the npm package <c>vnu-jar</c> pinned in tests/PleoKeys.BrowserTests/nu-checker
/// (<c>npm ci --ignore-scripts</c> there; .ci/run does it) and runs on Debian's Java
/// (<c>apt-get install -y default-jre-headless</c>). PLEOKEYS_VNU_JAR and PLEOKEYS_JAVA point elsewhere. Without
/// either, every test that checks HTML fails with a message that says so, never a silent pass.
/// </summary>
public static class NuHtmlChecker
{
    public sealed record Message(string Page, int Line, string Text);

    public static string JarPath =>
        Environment.GetEnvironmentVariable("PLEOKEYS_VNU_JAR") is { Length: > 0 } custom
            ? custom
            : Path.Combine(Screenshots.RepositoryRoot, "tests", "PleoKeys.BrowserTests", "nu-checker", "node_modules", "vnu-jar", "build", "dist", "vnu.jar");

    public static string Java => Environment.GetEnvironmentVariable("PLEOKEYS_JAVA") is { Length: > 0 } custom ? custom : "java";

    /// <summary>
    /// Checks each page's HTML (name → document) in one run of the checker and returns its errors (warnings and
    /// notes are not errors). The messages carry no extract of the page: a page may hold a newly revealed key.
    /// </summary>
    public static async Task<IReadOnlyList<Message>> ErrorsAsync(IReadOnlyDictionary<string, string> pages)
    {
        var inCi = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        var ciNote = inCi ? " CI=true: .ci/run installs both before the tests; a CI run without them fails." : "";
        if (!File.Exists(JarPath))
        {
            throw new InvalidOperationException(
                $"The HTML checks need the Nu HTML Checker at {JarPath}, and it is missing. Install it with " +
                "`npm ci --ignore-scripts --prefix tests/PleoKeys.BrowserTests/nu-checker`, or set PLEOKEYS_VNU_JAR to a vnu.jar." + ciNote);
        }

        var folder = Directory.CreateTempSubdirectory("pleokeys-vnu-");
        try
        {
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            var i = 0;
            foreach (var (name, html) in pages)
            {
                var file = Path.Combine(folder.FullName, $"page{i++}.html");
                await File.WriteAllTextAsync(file, html);
                files[file] = name;
            }

            var start = new ProcessStartInfo(Java)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-jar", JarPath, "--errors-only", "--format", "json", "--stdout" }.Concat(files.Keys))
            {
                start.ArgumentList.Add(arg);
            }

            Process process;
            try
            {
                process = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException(
                    $"The HTML checks run the Nu HTML Checker with Java ({Java}), and it could not start: {e.Message}. Install it with " +
                    "`apt-get install -y default-jre-headless`, or set PLEOKEYS_JAVA to a java binary." + ciNote, e);
            }

            using (process)
            {
                var stdout = process.StandardOutput.ReadToEndAsync();
                var stderr = process.StandardError.ReadToEndAsync();
                await process.WaitForExitAsync();
                var output = await stdout;
                if (!output.TrimStart().StartsWith('{'))
                {
                    throw new InvalidOperationException($"The Nu HTML Checker gave no report (exit code {process.ExitCode}): {await stderr}");
                }

                using var report = JsonDocument.Parse(output);
                return report.RootElement.GetProperty("messages").EnumerateArray()
                    .Where(m => m.GetProperty("type").GetString() is "error" or "non-document-error")
                    .Select(m => new Message(
                        // The checker names each file by a file: URL ("file:/tmp/…").
                        m.TryGetProperty("url", out var url) &&
                            files.TryGetValue(Path.Combine(folder.FullName, Path.GetFileName(url.GetString() ?? "")), out var page) ? page : "(the checker)",
                        m.TryGetProperty("lastLine", out var line) ? line.GetInt32() : 0,
                        m.GetProperty("message").GetString() ?? ""))
                    .ToList();
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
