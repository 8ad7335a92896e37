-- CreateTable
CREATE TABLE "NostrChallengeUse" (
    "challengeHash" TEXT NOT NULL PRIMARY KEY,
    "pubkey" TEXT NOT NULL,
    "expiresAt" DATETIME NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateIndex
CREATE INDEX "NostrChallengeUse_expiresAt_idx" ON "NostrChallengeUse"("expiresAt");
