/**
 * Which partitions a task reads (pure): every partition of the connector's topics, in topic then
 * partition order, dealt round-robin over `tasksMax` tasks, so tasks agree without talking.
 */
export function assignedPartitions(
  partitionCounts: ReadonlyMap<string, number>,
  tasksMax: number,
  task: number,
): { topic: string; partition: number }[] {
  const all: { topic: string; partition: number }[] = [];
  for (const topic of [...partitionCounts.keys()].sort())
    for (let partition = 0; partition < (partitionCounts.get(topic) ?? 0); partition++)
      all.push({ topic, partition });
  return all.filter((_, i) => i % tasksMax === task);
}
