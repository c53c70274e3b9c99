using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace PleoKeys.Web.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class KeyChangeStamps : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_DeletedAtUtc",
                table: "ApiKeys");

            migrationBuilder.AddColumn<int>(
                name: "ChangeCount",
                table: "ApiKeys",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "ChangedAtUtc",
                table: "ApiKeys",
                type: "TEXT",
                nullable: false,
                defaultValue: new DateTime(1, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified));

            // Existing keys last changed when they were deleted, or else when they were created.
            migrationBuilder.Sql("""UPDATE "ApiKeys" SET "ChangedAtUtc" = COALESCE("DeletedAtUtc", "CreatedAtUtc");""");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_ChangedAtUtc",
                table: "ApiKeys",
                column: "ChangedAtUtc");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_ApiKeys_ChangedAtUtc",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "ChangeCount",
                table: "ApiKeys");

            migrationBuilder.DropColumn(
                name: "ChangedAtUtc",
                table: "ApiKeys");

            migrationBuilder.CreateIndex(
                name: "IX_ApiKeys_DeletedAtUtc",
                table: "ApiKeys",
                column: "DeletedAtUtc");
        }
    }
}
