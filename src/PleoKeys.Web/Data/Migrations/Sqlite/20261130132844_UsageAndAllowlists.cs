using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class UsageAndAllowlists : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AllowedNetworks",
                table: "ApiKeys",
                type: "TEXT",
                maxLength: 2200,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AddColumn<DateTime>(
                name: "ReportedExposedAtUtc",
                table: "ApiKeys",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "KeyUsageAddresses",
                columns: table => new
                {
                    ApiKeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Address = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    FirstSeenUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    LastSeenUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Requests = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyUsageAddresses", x => new { x.ApiKeyId, x.Address });
                    table.ForeignKey(
                        name: "FK_KeyUsageAddresses_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "KeyUsageHours",
                columns: table => new
                {
                    ApiKeyId = table.Column<Guid>(type: "TEXT", nullable: false),
                    HourUtc = table.Column<DateTime>(type: "TEXT", nullable: false),
                    Endpoint = table.Column<string>(type: "TEXT", maxLength: 100, nullable: false),
                    Outcome = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    EndpointGroup = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Scope = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Requests = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_KeyUsageHours", x => new { x.ApiKeyId, x.HourUtc, x.Endpoint, x.Outcome });
                    table.ForeignKey(
                        name: "FK_KeyUsageHours_ApiKeys_ApiKeyId",
                        column: x => x.ApiKeyId,
                        principalTable: "ApiKeys",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_KeyUsageAddresses_LastSeenUtc",
                table: "KeyUsageAddresses",
                column: "LastSeenUtc");

            migrationBuilder.CreateIndex(
                name: "IX_KeyUsageHours_HourUtc",
                table: "KeyUsageHours",
                column: "HourUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "KeyUsageAddresses");

            migrationBuilder.DropTable(
                name: "KeyUsageHours");

            migrationBuilder.DropColumn(
                name: "AllowedNetworks",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "ReportedExposedAtUtc",
                table: "ApiKeys");
        }
    }
}
