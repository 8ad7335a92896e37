-- AlterTable
ALTER TABLE "RoomMessage" ADD COLUMN "viaApiKeyId" TEXT;

-- CreateTable
CREATE TABLE "UserTrust" (
    "userId" TEXT NOT NULL PRIMARY KEY,
    "score" REAL NOT NULL DEFAULT 0,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "UserTrust_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
