// Written by hand (EF Core design-time tools are not available here). The model snapshot beside it must
// describe the same schema; tests check both against the model and against a real database.
#pragma warning disable CA1861 // migration operations take literal column arrays, as EF-generated migrations do
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebConsole.Infrastructure.Persistence;

namespace WebConsole.Infrastructure.Sqlite.Migrations;

/// <summary>
/// Billing and limits: the prices in force on each usage record, budgets per team and key, rate-limit policies owned by an
/// organization, and the counters nodes share their rate-limit windows through.
/// </summary>
[DbContext(typeof(WebConsoleDbContext))]
[Migration("20261123000000_Billing")]
public sealed class Billing : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<long>(
            name: "InputPricePerMillion",
            table: "UsageRecords",
            type: "INTEGER",
            nullable: false,
            defaultValue: 0L);

        migrationBuilder.AddColumn<long>(
            name: "OutputPricePerMillion",
            table: "UsageRecords",
            type: "INTEGER",
            nullable: false,
            defaultValue: 0L);

        migrationBuilder.AddColumn<Guid>(
            name: "OrganizationId",
            table: "RateLimitPolicies",
            type: "TEXT",
            nullable: true);

        migrationBuilder.CreateIndex(
            name: "IX_RateLimitPolicies_OrganizationId",
            table: "RateLimitPolicies",
            column: "OrganizationId");

        migrationBuilder.CreateTable(
            name: "Budgets",
            columns: table => new
            {
                Id = table.Column<Guid>(type: "TEXT", nullable: false),
                CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                Currency = table.Column<string>(type: "TEXT", maxLength: 3, nullable: false),
                MonthlyLimit = table.Column<long>(type: "INTEGER", nullable: false),
                OrganizationId = table.Column<Guid>(type: "TEXT", nullable: false),
                Scope = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                ScopeId = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                SoftLimit = table.Column<long>(type: "INTEGER", nullable: true),
                SoftWarnedMonth = table.Column<string>(type: "TEXT", maxLength: 7, nullable: true),
                UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_Budgets", x => x.Id);
                table.ForeignKey(
                    name: "FK_Budgets_Organizations_OrganizationId",
                    column: x => x.OrganizationId,
                    principalTable: "Organizations",
                    principalColumn: "Id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "IX_Budgets_OrganizationId_Scope_ScopeId",
            table: "Budgets",
            columns: new[] { "OrganizationId", "Scope", "ScopeId" },
            unique: true);

        migrationBuilder.CreateTable(
            name: "RateLimitCounters",
            columns: table => new
            {
                NodeId = table.Column<Guid>(type: "TEXT", nullable: false),
                Key = table.Column<string>(type: "TEXT", maxLength: 512, nullable: false),
                Slot = table.Column<long>(type: "INTEGER", nullable: false),
                IngestTokens = table.Column<long>(type: "INTEGER", nullable: false),
                Requests = table.Column<long>(type: "INTEGER", nullable: false),
                SearchTokens = table.Column<long>(type: "INTEGER", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_RateLimitCounters", x => new { x.NodeId, x.Key, x.Slot });
            });

        migrationBuilder.CreateIndex(
            name: "IX_RateLimitCounters_Slot",
            table: "RateLimitCounters",
            column: "Slot");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "RateLimitCounters");

        migrationBuilder.DropTable(name: "Budgets");

        migrationBuilder.DropIndex(name: "IX_RateLimitPolicies_OrganizationId", table: "RateLimitPolicies");

        migrationBuilder.DropColumn(name: "OrganizationId", table: "RateLimitPolicies");

        migrationBuilder.DropColumn(name: "OutputPricePerMillion", table: "UsageRecords");

        migrationBuilder.DropColumn(name: "InputPricePerMillion", table: "UsageRecords");
    }
}
