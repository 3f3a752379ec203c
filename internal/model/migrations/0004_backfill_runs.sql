CREATE TABLE `backfill_runs` (
	`name` varchar(64) NOT NULL,
	`status` varchar(16) NOT NULL,
	`last_id` bigint unsigned NOT NULL,
	`processed` int NOT NULL DEFAULT 0,
	`findings` int NOT NULL DEFAULT 0,
	`finished_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `backfill_runs_name` PRIMARY KEY(`name`)
);
