//! `rally import` of a generated WordPress export (100,000 comments by default,
//! `BENCH_IMPORT_COMMENTS`) into a fresh table of a local stack (its stream running, as
//! on AWS): the comments per second, and the importer's peak memory (its process's
//! `VmHWM`), with every count checked afterwards.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Comments a generated post holds: a third of them replies.
const PER_POST: usize = 500;

pub struct ImportRun {
    pub comments: u64,
    pub posts: u64,
    pub file_bytes: u64,
    pub time: Duration,
    pub peak_kib: u64,
}

/// A WXR 1.2 file of `comments` comments over posts of [`PER_POST`], about 300 characters
/// each with a little HTML, every third a reply to the one before it.
fn generate(path: &Path, comments: usize) -> Result<u64, String> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(file);
    let mut write = |text: &str| w.write_all(text.as_bytes()).map_err(|e| e.to_string());
    write(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n\
         <channel>\n<title>Bench</title>\n<wp:wxr_version>1.2</wp:wxr_version>\n",
    )?;
    let posts = comments.div_ceil(PER_POST);
    let mut id = 0;
    for post in 0..posts {
        write(&format!(
            "<item><title>Imported post {post}</title><link>https://blog.example/imported-{post}/</link>\
             <wp:post_id>{post}</wp:post_id><wp:post_name>imported-{post}</wp:post_name><wp:post_type>post</wp:post_type>\n"
        ))?;
        for n in 0..PER_POST.min(comments - post * PER_POST) {
            id += 1;
            let parent = if n % 3 == 2 { id - 1 } else { 0 };
            let minute = n as u64;
            write(&format!(
                "<wp:comment><wp:comment_id>{id}</wp:comment_id><wp:comment_author><![CDATA[Reader {id}]]></wp:comment_author>\
                 <wp:comment_author_email>reader{id}@example.org</wp:comment_author_email>\
                 <wp:comment_author_IP>192.0.2.1</wp:comment_author_IP>\
                 <wp:comment_date_gmt>2015-01-01 {:02}:{:02}:00</wp:comment_date_gmt>\
                 <wp:comment_content><![CDATA[Comment {id}: <strong>thank you</strong> for writing this. {}]]></wp:comment_content>\
                 <wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>\
                 <wp:comment_parent>{parent}</wp:comment_parent></wp:comment>\n",
                minute / 60 % 24,
                minute % 60,
                &crate::FILLER.repeat(3)[..220],
            ))?;
        }
        write("</item>\n")?;
    }
    write("</channel>\n</rss>\n")?;
    w.flush().map_err(|e| e.to_string())?;
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| e.to_string())
}

fn high_water_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

pub async fn run(
    rally: &Path,
    endpoint: &str,
    template: &local_stack::Template,
    comments: usize,
    scratch: &Path,
) -> Result<ImportRun, String> {
    let table = format!("bench-import-{}", std::process::id());
    let config = app::Config::local(&table, endpoint, "bench-admin");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let stack = local_stack::start_with(config, template, listener, Default::default()).await?;
    let file = scratch.join("import.xml");
    let file_bytes = generate(&file, comments)?;
    let started = Instant::now();
    let mut child = tokio::process::Command::new(rally)
        .args(["--quiet", "--endpoint", endpoint, "--table", &table, "import", "wordpress"])
        .arg(&file)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", rally.display()))?;
    let pid = child.id().unwrap_or(0);
    let mut peak_kib = 0;
    let status = loop {
        if let Some(kib) = high_water_kib(pid) {
            peak_kib = peak_kib.max(kib);
        }
        match tokio::time::timeout(Duration::from_millis(100), child.wait()).await {
            Ok(status) => break status.map_err(|e| e.to_string())?,
            Err(_) => continue,
        }
    };
    let time = started.elapsed();
    if !status.success() {
        return Err(format!("rally import failed: {status}"));
    }
    let stats = rally_cli::stats::gather(&stack.app.store).await.map_err(|e| e.to_string())?;
    let posts = stats["posts"].as_array().cloned().unwrap_or_default();
    let counted: u64 = posts.iter().filter_map(|p| p["comments"].as_u64()).sum();
    if counted != comments as u64 {
        return Err(format!("the import counted {counted} comments, not {comments}"));
    }
    let _ = std::fs::remove_file(&file);
    Ok(ImportRun { comments: comments as u64, posts: posts.len() as u64, file_bytes, time, peak_kib })
}
