/*
  Warnings:

  - A unique constraint covering the columns `[threadId,seq]` on the table `Message` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "Message" ADD COLUMN "seq" INTEGER;

-- Backfill: each thread's stored messages numbered 1, 2, 3… in the order they were listed (createdAt, id), and
-- the thread's counter (which allocates the next seq) set to how many it holds. One pass (UPDATE … FROM), not a
-- window per row.
UPDATE "Message" SET "seq" = "numbered"."rn"
FROM (
  SELECT "id", ROW_NUMBER() OVER (PARTITION BY "threadId" ORDER BY "createdAt", "id") AS "rn" FROM "Message" WHERE "threadId" IS NOT NULL
) AS "numbered"
WHERE "numbered"."id" = "Message"."id";
UPDATE "Thread" SET "messageCount" = (SELECT COUNT(*) FROM "Message" WHERE "Message"."threadId" = "Thread"."id");

-- CreateIndex
CREATE UNIQUE INDEX "Message_threadId_seq_key" ON "Message"("threadId", "seq");
