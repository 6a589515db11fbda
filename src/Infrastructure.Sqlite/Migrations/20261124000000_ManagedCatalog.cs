// Written by hand (EF Core design-time tools are not available here). The model snapshot beside it must
// describe the same schema; tests check both against the model and against a real database.
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite.Migrations;

/// <summary>
/// The managed catalog: the backend the operator gives each catalog model (an embedded model, or an upstream service with
/// its settings, the secret ones encrypted apart).
/// </summary>
[DbContext(typeof(WebConsoleDbContext))]
[Migration("20261124000000_ManagedCatalog")]
public sealed class ManagedCatalog : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "CatalogBackends",
            columns: table => new
            {
                CatalogModelId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                EmbeddedModelId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                Kind = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                UpstreamSecretSettings = table.Column<string>(type: "TEXT", nullable: true),
                UpstreamService = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                UpstreamServiceSettings = table.Column<string>(type: "TEXT", nullable: true),
                UpstreamTaskSettings = table.Column<string>(type: "TEXT", nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_CatalogBackends", x => x.CatalogModelId);
                table.ForeignKey(
                    name: "FK_CatalogBackends_CatalogModels_CatalogModelId",
                    column: x => x.CatalogModelId,
                    principalTable: "CatalogModels",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "CatalogBackends");
    }
}
