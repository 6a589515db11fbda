using Microsoft.Extensions.Options;
using WebConsole.Web.Hosting;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddWebConsoleWeb();
    var app = builder.Build();
    await app.PrepareWebConsoleAsync();
    app.UseWebConsoleWeb();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // A wrong setting stops start-up with one line per failure, each naming its configuration key.
    foreach (var failure in ex.Failures)
    {
        await Console.Error.WriteLineAsync($"Invalid configuration: {failure}");
    }
    return 2;
}

/// <summary>The Web application's entry point (public so tests can name the assembly).</summary>
public partial class Program;
