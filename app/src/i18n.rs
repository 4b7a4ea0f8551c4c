//! Interface text in Turkish (the default) and English. Every text has both translations; the
//! compiler checks that none is missing.

use serde::{Deserialize, Serialize};

/// Name of the cookie that remembers the language a person chose.
pub const LANG_COOKIE: &str = "attn_lang";

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Lang {
    /// Türkçe.
    #[default]
    Tr,
    /// English.
    En,
}

impl Lang {
    /// The BCP 47 code, as used in `<html lang>` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Tr => "tr",
            Lang::En => "en",
        }
    }

    /// Reads a code; anything unknown is `None`.
    pub fn from_code(code: &str) -> Option<Self> {
        match code.trim().to_ascii_lowercase().as_str() {
            "tr" => Some(Lang::Tr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch.
    pub fn other(self) -> Self {
        match self {
            Lang::Tr => Lang::En,
            Lang::En => Lang::Tr,
        }
    }

    /// Picks the language: the cookie if set, else the browser's first supported preference,
    /// else Turkish.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Self {
        if let Some(lang) = cookie.and_then(Lang::from_code) {
            return lang;
        }
        let Some(header) = accept_language else {
            return Lang::default();
        };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or_default().trim();
            let primary = tag.split('-').next().unwrap_or_default();
            let Some(lang) = Lang::from_code(primary) else {
                continue;
            };
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }
}

/// Every piece of interface text. A text with values in it names them (`{count}`), so each
/// translation puts them where its grammar wants them; [`Text::fill`] puts them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter)]
pub enum Text {
    /// Page title suffix and brand.
    AppName,
    /// What ATTN is, in one line.
    Tagline,
    /// Shown to visitors who have not logged in.
    NotLoggedIn,
    /// Before the name of the person logged in.
    LoggedInAs,
    /// Role names.
    RoleStudent,
    /// Role names.
    RoleTeacher,
    /// Role names.
    RoleAdmin,
    /// Label of the language switch (names the other language).
    SwitchLanguage,
    /// Teachers: what to do.
    HowTeachers,
    /// Students: what to do.
    HowStudents,
    /// While data loads.
    Loading,
    /// A dependency is down.
    Unavailable,
    /// 404.
    PageNotFound,
    /// Link home.
    BackHome,
    /// Login page title and button.
    LogIn,
    /// Logout button.
    LogOut,
    /// Login form label.
    SchoolNumber,
    /// Login form label.
    Password,
    /// Under the login form.
    LoginHint,
    /// Teacher's home: heading of today's lessons.
    TodaysLessons,
    /// No lessons today.
    NoLessonsToday,
    /// Marks the suggested lesson.
    SuggestedNow,
    /// Join page heading.
    Attendance,
    /// Join page label.
    Teacher,
    /// Join page: "{minutes}" left, rounded up.
    TimeLeftMinutes,
    /// Live page countdown: "{time}" left (mm:ss).
    TimeLeftClock,
    /// Join page: the session has ended.
    SessionEnded,
    /// Join page: what comes next.
    JoinComingSoon,
    /// Error: must log in.
    ErrLoginRequired,
    /// Error: role.
    ErrForbidden,
    /// Error: unknown session.
    ErrSessionNotFound,
    /// Error: unknown thing.
    ErrNotFound,
    /// Error: malformed input.
    ErrInvalid,
    /// Error: field empty.
    ErrSchoolNumberEmpty,
    /// Error: field empty.
    ErrPasswordEmpty,
    /// Error: wrong credentials.
    ErrWrongCredentials,
    /// Error: rate limited, to try again in "{seconds}".
    ErrRateLimited,
    /// Error: portal down.
    ErrPortalUnavailable,
    /// Error: portal changed.
    ErrPortalChanged,
    /// Error: malformed session id.
    ErrBadSessionId,
    /// Teacher dashboard title.
    Dashboard,
    /// Form label.
    LessonName,
    /// Form label.
    Duration,
    /// Form label.
    Security,
    /// Level 1.
    SecurityNone,
    /// Level 2.
    SecurityNetwork,
    /// Level 3.
    SecurityFace,
    /// Form label.
    RotateCode,
    /// Button.
    Start,
    /// Dashboard: a session runs.
    ActiveSessionRunning,
    /// Link.
    OpenIt,
    /// Live page.
    ScanToJoin,
    /// Label.
    Code,
    /// Count / status.
    Attended,
    /// Count / status.
    Failed,
    /// "{count}" counted present.
    AttendedCount,
    /// "{count}" failed checks.
    FailedCount,
    /// A failed check and its "{reason}" (may be empty).
    FailedBecause,
    /// Removed by the teacher, with the "{reason}" given.
    RemovedBecause,
    /// Button.
    Accept,
    /// Button.
    Remove,
    /// Label.
    Reason,
    /// Button.
    AddStudent,
    /// Button.
    Finish,
    /// Heading.
    Students,
    /// Empty list.
    NoStudentsYet,
    /// Button.
    JoinButton,
    /// Outcome.
    YouAttended,
    /// Outcome, with the "{reason}".
    YouFailed,
    /// Outcome.
    YouWereRemoved,
    /// Outcome.
    RetryHint,
    /// Reason.
    ReasonWifi,
    /// Reason.
    ReasonDevice,
    /// Reason.
    ReasonFace,
    /// Reason.
    ReasonOther,
    /// Error.
    ErrCodeExpired,
    /// Error.
    ErrSessionEnded,
    /// Error.
    ErrActiveSession,
    /// Error.
    ErrReasonTooShort,
    /// A selfie that cannot be used.
    ErrSelfie,
    /// Level 3 without models.
    ErrFaceUnavailable,
    /// Reason code.
    ReasonFaceMismatch,
    /// Reason code.
    ReasonNoFace,
    /// Reason code.
    ReasonManyFaces,
    /// Reason code.
    ReasonNoReference,
    /// Reason code.
    ReasonSelfieMissing,
    /// Reason code.
    ReasonFacePending,
    /// Reason code.
    ReasonFaceTimeout,
    /// While the face check runs.
    CheckingFace,
    /// Label of the selfie input.
    Selfie,
    /// Under the selfie input.
    SelfieHint,
    /// The selfie's "{distance}" from the portal photo.
    Distance,
    /// Next to level 3 when unavailable.
    FaceUnavailableNote,
    /// Join page for teachers.
    StudentsOnly,
    /// Find page title.
    FindSession,
    /// Find page hint.
    FindHint,
    /// Button.
    Search,
    /// No result.
    NoSessionFound,
    /// A teacher's past sessions.
    History,
    /// No past session yet.
    NoPastSessions,
    /// Paging back.
    Newer,
    /// Paging on.
    Older,
    /// Page "{page}" of "{pages}".
    PageOf,
    /// Column: when.
    Date,
    /// Link to a past session.
    Open,
    /// Link back to the list.
    BackToHistory,
    /// Button: delete a whole session.
    DeleteSession,
    /// What deleting a session does.
    DeleteSessionHint,
    /// Placeholder of a reason of 10 characters or more.
    ReasonMin10,
    /// After a session was deleted.
    SessionDeletedNotice,
    /// After a correction.
    Saved,
    /// A student's own history.
    MyAttendance,
    /// A student with no past session.
    NoAttendanceYet,
    /// A lesson's sessions "{held}", "{attended}" and "{missed}".
    LessonTally,
    /// Sessions missed.
    Missed,
    /// Attendance rate.
    Rate,
    /// The admin's page.
    Review,
    /// Heading.
    DeletedSessions,
    /// Heading.
    DeletedRecords,
    /// Empty list.
    NothingDeleted,
    /// Filter: first day.
    FromDate,
    /// Filter: last day.
    ToDate,
    /// Button.
    Filter,
    /// Button.
    Restore,
    /// Deleted by "{who}" at "{when}".
    DeletedByAt,
    /// Error: a text holds control characters.
    ErrControlCharacters,
    /// Error: the request is larger than any form of ATTN sends.
    ErrTooLarge,
    /// A form posted from another site's page: refused.
    ForeignOriginTitle,
    /// What to do about it.
    ForeignOriginHint,
    /// Admin: sessions the sweep set aside.
    StuckSessions,
    /// Admin: what a set-aside session is.
    StuckHint,
    /// Admin: a set-aside session's "{records}" and "{tries}".
    StuckTally,
    /// Admin: send a set-aside session back to the sweep.
    RetryNow,
    /// Notice: sent back to the sweep.
    RetriedNotice,
    /// A session.
    Session,
    /// The audit log.
    RecentChanges,
    /// Audit action.
    ActSessionDeleted,
    /// Audit action.
    ActRecordDeleted,
    /// Audit action.
    ActRecordAdded,
    /// Audit action.
    ActSessionRestored,
    /// Audit action.
    ActRecordRestored,
    /// After a restore.
    RestoredNotice,
}

impl Text {
    /// The text in `lang`.
    /// The text with each `{name}` replaced by its value from `args`. A name missing from
    /// `args` stays as it is written, so the slip shows on the page instead of a value
    /// silently vanishing.
    pub fn fill(self, lang: Lang, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        let mut out = String::new();
        for piece in pieces(self.get(lang)) {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Value(name) => match args.iter().find(|(n, _)| *n == name) {
                    Some((_, value)) => out.push_str(&value.to_string()),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                },
            }
        }
        out
    }

    /// The names of the values in this text, in the order the language writes them.
    pub fn placeholders(self, lang: Lang) -> Vec<&'static str> {
        pieces(self.get(lang))
            .filter_map(|piece| match piece {
                Piece::Value(name) => Some(name),
                Piece::Text(_) => None,
            })
            .collect()
    }

    pub fn get(self, lang: Lang) -> &'static str {
        use Text::*;
        match (self, lang) {
            (AppName, _) => "ATTN",
            (Tagline, Lang::Tr) => {
                "Sınıf yoklaması: QR kodu okut, ağını ve yüzünü doğrula, derse katıl."
            }
            (Tagline, Lang::En) => {
                "Classroom attendance: scan the QR code, be checked by network and face, be counted."
            }
            (NotLoggedIn, Lang::Tr) => "Giriş yapmadınız.",
            (NotLoggedIn, Lang::En) => "You are not logged in.",
            (LoggedInAs, Lang::Tr) => "Giriş yapan:",
            (LoggedInAs, Lang::En) => "Logged in as",
            (RoleStudent, Lang::Tr) => "Öğrenci",
            (RoleStudent, Lang::En) => "Student",
            (RoleTeacher, Lang::Tr) => "Öğretim üyesi",
            (RoleTeacher, Lang::En) => "Teacher",
            (RoleAdmin, Lang::Tr) => "Yönetici",
            (RoleAdmin, Lang::En) => "Administrator",
            (SwitchLanguage, Lang::Tr) => "English",
            (SwitchLanguage, Lang::En) => "Türkçe",
            (HowTeachers, Lang::Tr) => {
                "Öğretim üyeleri: derste yoklama başlatın, QR kodunu yansıtın, gelenleri canlı izleyin."
            }
            (HowTeachers, Lang::En) => {
                "Teachers: start attendance in class, project the QR code, watch arrivals live."
            }
            (HowStudents, Lang::Tr) => {
                "Öğrenciler: sınıfın Wi-Fi ağında QR kodunu okutun ve AKSİS hesabınızla giriş yapın."
            }
            (HowStudents, Lang::En) => {
                "Students: scan the QR code on the classroom Wi-Fi and log in with your AKSIS account."
            }
            (Loading, Lang::Tr) => "Yükleniyor…",
            (Loading, Lang::En) => "Loading…",
            (Unavailable, Lang::Tr) => {
                "Hizmet şu anda kullanılamıyor. Lütfen biraz sonra yeniden deneyin."
            }
            (Unavailable, Lang::En) => {
                "The service is unavailable right now. Please try again shortly."
            }
            (PageNotFound, Lang::Tr) => "Sayfa bulunamadı.",
            (PageNotFound, Lang::En) => "Page not found.",
            (BackHome, Lang::Tr) => "Ana sayfaya dön",
            (BackHome, Lang::En) => "Back to the home page",
            (LogIn, Lang::Tr) => "Giriş yap",
            (LogIn, Lang::En) => "Log in",
            (LogOut, Lang::Tr) => "Çıkış",
            (LogOut, Lang::En) => "Log out",
            (SchoolNumber, Lang::Tr) => "Okul numarası veya kullanıcı adı",
            (SchoolNumber, Lang::En) => "School number or username",
            (Password, Lang::Tr) => "Şifre",
            (Password, Lang::En) => "Password",
            (LoginHint, Lang::Tr) => {
                "AKSİS hesabınızla giriş yapın. Şifreniz yalnızca AKSİS'e iletilir, saklanmaz."
            }
            (LoginHint, Lang::En) => {
                "Log in with your AKSIS account. Your password is only passed on to AKSIS, never stored."
            }
            (TodaysLessons, Lang::Tr) => "Bugünkü dersleriniz",
            (TodaysLessons, Lang::En) => "Your lessons today",
            (NoLessonsToday, Lang::Tr) => "Ders programınızda bugün ders yok.",
            (NoLessonsToday, Lang::En) => "Your timetable has no lessons today.",
            (SuggestedNow, Lang::Tr) => "şimdi",
            (SuggestedNow, Lang::En) => "now",
            (Attendance, Lang::Tr) => "Yoklama",
            (Attendance, Lang::En) => "Attendance",
            (TimeLeftMinutes, Lang::Tr) => "Kalan süre: {minutes} dk",
            (TimeLeftMinutes, Lang::En) => "Time left: {minutes} min",
            (TimeLeftClock, Lang::Tr) => "Kalan süre: {time}",
            (TimeLeftClock, Lang::En) => "Time left: {time}",
            (SessionEnded, Lang::Tr) => "Bu yoklama sona erdi.",
            (SessionEnded, Lang::En) => "This attendance session has ended.",
            (JoinComingSoon, Lang::Tr) => "Yoklamaya katılma bu sayfadan yapılır.",
            (JoinComingSoon, Lang::En) => "You check in to this session from this page.",
            (ErrLoginRequired, Lang::Tr) => "Önce giriş yapın.",
            (ErrLoginRequired, Lang::En) => "Please log in first.",
            (ErrForbidden, Lang::Tr) => "Bu işlem için yetkiniz yok.",
            (ErrForbidden, Lang::En) => "You are not allowed to do this.",
            (ErrSessionNotFound, Lang::Tr) => "Bu yoklama bulunamadı ya da sona erdi.",
            (ErrSessionNotFound, Lang::En) => "This attendance session was not found or has ended.",
            (ErrNotFound, Lang::Tr) => "Aradığınız kayıt bulunamadı.",
            (ErrNotFound, Lang::En) => "What you asked for was not found.",
            (ErrInvalid, Lang::Tr) => "Girdiğiniz bilgi geçerli değil.",
            (ErrInvalid, Lang::En) => "What you entered is not valid.",
            (ErrSchoolNumberEmpty, Lang::Tr) => "Okul numaranızı ya da kullanıcı adınızı yazın.",
            (ErrSchoolNumberEmpty, Lang::En) => "Enter your school number or username.",
            (ErrPasswordEmpty, Lang::Tr) => "Şifrenizi yazın.",
            (ErrPasswordEmpty, Lang::En) => "Enter your password.",
            (ErrWrongCredentials, Lang::Tr) => "Kullanıcı adı ya da şifre yanlış.",
            (ErrWrongCredentials, Lang::En) => "Wrong username or password.",
            (ErrRateLimited, Lang::Tr) => {
                "Çok fazla deneme yapıldı. {seconds} saniye sonra yeniden deneyin."
            }
            (ErrRateLimited, Lang::En) => "Too many attempts. Try again in {seconds} seconds.",
            (ErrPortalUnavailable, Lang::Tr) => {
                "AKSİS şu anda yanıt vermiyor. Biraz sonra yeniden deneyin."
            }
            (ErrPortalUnavailable, Lang::En) => {
                "AKSIS is not answering right now. Please try again shortly."
            }
            (ErrPortalChanged, Lang::Tr) => {
                "AKSİS sayfaları değişmiş görünüyor; giriş şu anda yapılamıyor. Sorun bildirildi."
            }
            (ErrPortalChanged, Lang::En) => {
                "The AKSIS pages seem to have changed, so logging in is not possible right now. The problem has been logged."
            }
            (ErrBadSessionId, Lang::Tr) => "Bu bağlantı geçerli bir yoklama bağlantısı değil.",
            (ErrBadSessionId, Lang::En) => "This link is not a valid attendance link.",
            (Dashboard, Lang::Tr) => "Yoklama başlat",
            (Dashboard, Lang::En) => "Start attendance",
            (LessonName, Lang::Tr) => "Ders adı",
            (LessonName, Lang::En) => "Lesson",
            (Duration, Lang::Tr) => "Süre (dakika)",
            (Duration, Lang::En) => "Duration (minutes)",
            (Security, Lang::Tr) => "Güvenlik düzeyi",
            (Security, Lang::En) => "Security level",
            (SecurityNone, Lang::Tr) => "Yok: bağlantıyı bilen katılır",
            (SecurityNone, Lang::En) => "None: anyone with the link",
            (SecurityNetwork, Lang::Tr) => "Ağ: sınıfın ağında olmak gerekir",
            (SecurityNetwork, Lang::En) => "Network: must be on the classroom network",
            (SecurityFace, Lang::Tr) => "Ağ + yüz: ayrıca özçekim",
            (SecurityFace, Lang::En) => "Network + face: also a selfie",
            (RotateCode, Lang::Tr) => "QR kodu 15 saniyede bir değişsin",
            (RotateCode, Lang::En) => "Change the QR code every 15 seconds",
            (Start, Lang::Tr) => "Başlat",
            (Start, Lang::En) => "Start",
            (ActiveSessionRunning, Lang::Tr) => "Süren bir yoklamanız var.",
            (ActiveSessionRunning, Lang::En) => "You have an attendance session running.",
            (OpenIt, Lang::Tr) => "Aç",
            (OpenIt, Lang::En) => "Open it",
            (ScanToJoin, Lang::Tr) => "Katılmak için QR kodu okutun ya da adrese gidip kodu yazın:",
            (ScanToJoin, Lang::En) => "Scan the QR code, or open the address and type the code:",
            (Code, Lang::Tr) => "Kod",
            (Code, Lang::En) => "Code",
            (Attended, Lang::Tr) => "Katıldı",
            (Attended, Lang::En) => "Attended",
            (Failed, Lang::Tr) => "Başarısız",
            (Failed, Lang::En) => "Failed",
            (AttendedCount, Lang::Tr) => "Katıldı: {count}",
            (AttendedCount, Lang::En) => "Attended: {count}",
            (FailedCount, Lang::Tr) => "Başarısız: {count}",
            (FailedCount, Lang::En) => "Failed: {count}",
            (FailedBecause, Lang::Tr) => "Başarısız: {reason}",
            (FailedBecause, Lang::En) => "Failed: {reason}",
            (RemovedBecause, Lang::Tr) => "Çıkarıldı: {reason}",
            (RemovedBecause, Lang::En) => "Removed: {reason}",
            (Accept, Lang::Tr) => "Kabul et",
            (Accept, Lang::En) => "Accept",
            (Remove, Lang::Tr) => "Çıkar",
            (Remove, Lang::En) => "Remove",
            (Reason, Lang::Tr) => "Gerekçe",
            (Reason, Lang::En) => "Reason",
            (AddStudent, Lang::Tr) => "Öğrenci ekle",
            (AddStudent, Lang::En) => "Add student",
            (Finish, Lang::Tr) => "Yoklamayı bitir",
            (Finish, Lang::En) => "Finish",
            (Students, Lang::Tr) => "Öğrenciler",
            (Students, Lang::En) => "Students",
            (NoStudentsYet, Lang::Tr) => "Henüz katılan yok.",
            (NoStudentsYet, Lang::En) => "Nobody has checked in yet.",
            (JoinButton, Lang::Tr) => "Derse katıl",
            (JoinButton, Lang::En) => "Check in",
            (YouAttended, Lang::Tr) => "Yoklamaya katıldınız.",
            (YouAttended, Lang::En) => "You are checked in.",
            (YouFailed, Lang::Tr) => "Katılımınız doğrulanamadı: {reason}",
            (YouFailed, Lang::En) => "Your check-in could not be confirmed: {reason}",
            (YouWereRemoved, Lang::Tr) => "Öğretim üyesi sizi bu yoklamadan çıkardı.",
            (YouWereRemoved, Lang::En) => "The teacher removed you from this session.",
            (RetryHint, Lang::Tr) => {
                "Sınıfın ağına bağlanıp yeniden deneyebilirsiniz; öğretim üyesi de kabul edebilir."
            }
            (RetryHint, Lang::En) => {
                "You may connect to the classroom network and try again; the teacher can also accept you."
            }
            (ReasonWifi, Lang::Tr) => "sınıfın ağında değilsiniz",
            (ReasonWifi, Lang::En) => "you are not on the classroom network",
            (ReasonDevice, Lang::Tr) => "bu cihazla başka bir öğrenci katıldı",
            (ReasonDevice, Lang::En) => "another student already checked in with this device",
            (ReasonFace, Lang::Tr) => "yüz doğrulaması bu sunucuda yapılamıyor",
            (ReasonFace, Lang::En) => "the face check is not available on this server",
            (ReasonOther, Lang::Tr) => "doğrulama başarısız",
            (ReasonOther, Lang::En) => "the check failed",
            (ErrCodeExpired, Lang::Tr) => "Kodun süresi doldu, QR kodu yeniden okutun.",
            (ErrCodeExpired, Lang::En) => "The code has expired, scan the QR code again.",
            (ErrSessionEnded, Lang::Tr) => "Bu yoklama sona erdi.",
            (ErrSessionEnded, Lang::En) => "This attendance session has ended.",
            (ErrActiveSession, Lang::Tr) => "Zaten süren bir yoklamanız var.",
            (ErrActiveSession, Lang::En) => "You already have an attendance session running.",
            (History, Lang::Tr) => "Geçmiş oturumlar",
            (History, Lang::En) => "Past sessions",
            (NoPastSessions, Lang::Tr) => {
                "Henüz geçmiş oturum yok. Biten oturumlar birkaç saniye içinde burada görünür."
            }
            (NoPastSessions, Lang::En) => {
                "No past session yet. Finished sessions show up here within seconds."
            }
            (Newer, Lang::Tr) => "← Daha yeni",
            (Newer, Lang::En) => "← Newer",
            (Older, Lang::Tr) => "Daha eski →",
            (Older, Lang::En) => "Older →",
            (PageOf, Lang::Tr) => "{page} / {pages}",
            (PageOf, Lang::En) => "page {page} of {pages}",
            (Date, Lang::Tr) => "Tarih",
            (Date, Lang::En) => "Date",
            (Open, Lang::Tr) => "Aç",
            (Open, Lang::En) => "Open",
            (BackToHistory, Lang::Tr) => "← Geçmiş oturumlar",
            (BackToHistory, Lang::En) => "← Past sessions",
            (DeleteSession, Lang::Tr) => "Oturumu sil",
            (DeleteSession, Lang::En) => "Delete session",
            (DeleteSessionHint, Lang::Tr) => {
                "Silinen oturum listelerden kalkar; yönetici geri alabilir. Gerekçe en az 10 karakter."
            }
            (DeleteSessionHint, Lang::En) => {
                "A deleted session leaves every list; an admin can restore it. The reason needs at least 10 characters."
            }
            (ReasonMin10, Lang::Tr) => "Gerekçe (en az 10 karakter)",
            (ReasonMin10, Lang::En) => "Reason (at least 10 characters)",
            (SessionDeletedNotice, Lang::Tr) => "Oturum silindi. Yönetici geri alabilir.",
            (SessionDeletedNotice, Lang::En) => "The session was deleted. An admin can restore it.",
            (Saved, Lang::Tr) => "Kaydedildi.",
            (Saved, Lang::En) => "Saved.",
            (MyAttendance, Lang::Tr) => "Yoklamalarım",
            (MyAttendance, Lang::En) => "My attendance",
            (NoAttendanceYet, Lang::Tr) => "Henüz kayıtlı yoklamanız yok.",
            (NoAttendanceYet, Lang::En) => "You have no recorded attendance yet.",
            (LessonTally, Lang::Tr) => {
                "Yapılan: {held} · Katıldı: {attended} · Katılmadı: {missed}"
            }
            (LessonTally, Lang::En) => "Held: {held} · Attended: {attended} · Missed: {missed}",
            (Missed, Lang::Tr) => "Katılmadı",
            (Missed, Lang::En) => "Missed",
            (Rate, Lang::Tr) => "Katılım oranı",
            (Rate, Lang::En) => "Attendance rate",
            (Teacher, Lang::Tr) => "Öğretim üyesi",
            (Teacher, Lang::En) => "Teacher",
            (Review, Lang::Tr) => "Silinen kayıtlar",
            (Review, Lang::En) => "Deleted items",
            (DeletedSessions, Lang::Tr) => "Silinen oturumlar",
            (DeletedSessions, Lang::En) => "Deleted sessions",
            (DeletedRecords, Lang::Tr) => "Silinen öğrenci kayıtları",
            (DeletedRecords, Lang::En) => "Deleted student records",
            (NothingDeleted, Lang::Tr) => "Silinmiş bir şey yok.",
            (NothingDeleted, Lang::En) => "Nothing deleted.",
            (FromDate, Lang::Tr) => "Başlangıç",
            (FromDate, Lang::En) => "From",
            (ToDate, Lang::Tr) => "Bitiş",
            (ToDate, Lang::En) => "To",
            (Filter, Lang::Tr) => "Süz",
            (Filter, Lang::En) => "Filter",
            (Restore, Lang::Tr) => "Geri al",
            (Restore, Lang::En) => "Restore",
            (DeletedByAt, Lang::Tr) => "Silen: {who} · Silinme: {when}",
            (DeletedByAt, Lang::En) => "Deleted by: {who} · Deleted at: {when}",
            (ErrTooLarge, Lang::Tr) => "Gönderilen bilgi çok büyük; hiçbir şey kaydedilmedi.",
            (ErrTooLarge, Lang::En) => "What was sent is too large; nothing was saved.",
            (ErrControlCharacters, Lang::Tr) => {
                "Yazdığınız metinde görünmeyen denetim karakterleri var; lütfen yeniden yazın."
            }
            (ErrControlCharacters, Lang::En) => {
                "The text holds invisible control characters; please type it again."
            }
            (ForeignOriginTitle, Lang::Tr) => "Bu istek başka bir siteden geldi.",
            (ForeignOriginTitle, Lang::En) => "This request came from another site.",
            (ForeignOriginHint, Lang::Tr) => {
                "Güvenliğiniz için reddedildi ve hiçbir şey değişmedi. İşlemi ATTN'nin kendi sayfasından yapın."
            }
            (ForeignOriginHint, Lang::En) => {
                "It was refused for your safety and nothing changed. Do it from ATTN's own page."
            }
            (StuckSessions, Lang::Tr) => "Kaydedilemeyen yoklamalar",
            (StuckSessions, Lang::En) => "Sessions that could not be saved",
            (StuckHint, Lang::Tr) => {
                "Veritabanı bu yoklamaları kabul etmedi. Kayıtlar kaybolmadı, canlı depoda bekliyor; sorun giderilince yeniden deneyin."
            }
            (StuckHint, Lang::En) => {
                "The database refused these sessions. Their records are not lost: they wait in the live store; try again once the problem is fixed."
            }
            (StuckTally, Lang::Tr) => "{records} kayıt · {tries} deneme",
            (StuckTally, Lang::En) => "{records} records · {tries} tries",
            (RetryNow, Lang::Tr) => "Yeniden dene",
            (RetryNow, Lang::En) => "Try again",
            (RetriedNotice, Lang::Tr) => "Yoklama yeniden kaydedilecek.",
            (RetriedNotice, Lang::En) => "The session will be saved again.",
            (Session, Lang::Tr) => "Oturum",
            (Session, Lang::En) => "Session",
            (RecentChanges, Lang::Tr) => "Son işlemler",
            (RecentChanges, Lang::En) => "Recent changes",
            (ActSessionDeleted, Lang::Tr) => "oturumu sildi",
            (ActSessionDeleted, Lang::En) => "deleted the session",
            (ActRecordDeleted, Lang::Tr) => "öğrenciyi çıkardı",
            (ActRecordDeleted, Lang::En) => "removed the student",
            (ActRecordAdded, Lang::Tr) => "öğrenciyi ekledi",
            (ActRecordAdded, Lang::En) => "added the student",
            (ActSessionRestored, Lang::Tr) => "oturumu geri aldı",
            (ActSessionRestored, Lang::En) => "restored the session",
            (ActRecordRestored, Lang::Tr) => "öğrenci kaydını geri aldı",
            (ActRecordRestored, Lang::En) => "restored the student's record",
            (RestoredNotice, Lang::Tr) => "Geri alındı.",
            (RestoredNotice, Lang::En) => "Restored.",
            (ErrSelfie, Lang::Tr) => {
                "Fotoğraf kullanılamadı: JPEG, PNG veya WebP olmalı, en çok 8 MB ve 4096 piksel."
            }
            (ErrSelfie, Lang::En) => {
                "The photo cannot be used: it must be a JPEG, PNG or WebP of at most 8 MB and 4096 pixels."
            }
            (ErrFaceUnavailable, Lang::Tr) => {
                "Bu sunucuda yüz doğrulaması kullanılamıyor; ağ doğrulamasını seçin."
            }
            (ErrFaceUnavailable, Lang::En) => {
                "Face checks are not available on this server; choose the network check."
            }
            (ReasonFaceMismatch, Lang::Tr) => "yüz portal fotoğrafıyla eşleşmedi",
            (ReasonFaceMismatch, Lang::En) => "the face does not match the portal photo",
            (ReasonNoFace, Lang::Tr) => "fotoğrafta yüz bulunamadı, yeni bir özçekim yükleyin",
            (ReasonNoFace, Lang::En) => "no face in the photo, take a new selfie",
            (ReasonManyFaces, Lang::Tr) => {
                "fotoğrafta birden fazla yüz var, yalnız kendinizi çekin"
            }
            (ReasonManyFaces, Lang::En) => {
                "more than one face in the photo, take one of yourself only"
            }
            (ReasonNoReference, Lang::Tr) => "portalda fotoğraf yok, öğretim üyesi karar verecek",
            (ReasonNoReference, Lang::En) => "no portal photo, the teacher decides",
            (ReasonSelfieMissing, Lang::Tr) => "özçekim gönderilmedi",
            (ReasonSelfieMissing, Lang::En) => "no selfie was sent",
            (ReasonFacePending, Lang::Tr) => "yüz kontrol ediliyor…",
            (ReasonFacePending, Lang::En) => "checking the face…",
            (ReasonFaceTimeout, Lang::Tr) => "yüz kontrolü oturum bitmeden tamamlanamadı",
            (ReasonFaceTimeout, Lang::En) => {
                "the face check did not finish before the session ended"
            }
            (CheckingFace, Lang::Tr) => "Yüzünüz kontrol ediliyor…",
            (CheckingFace, Lang::En) => "Checking your face…",
            (Selfie, Lang::Tr) => "Özçekim",
            (Selfie, Lang::En) => "Selfie",
            (SelfieHint, Lang::Tr) => {
                "Yüzünüz tek başına ve net görünsün; fotoğraf saklanmaz, yalnız portal fotoğrafınızla karşılaştırılır."
            }
            (SelfieHint, Lang::En) => {
                "Your face alone and clearly visible; the photo is not kept, only compared with your portal photo."
            }
            (Distance, Lang::Tr) => "benzerlik mesafesi {distance}",
            (Distance, Lang::En) => "face distance {distance}",
            (FaceUnavailableNote, Lang::Tr) => "(bu sunucuda kullanılamıyor)",
            (FaceUnavailableNote, Lang::En) => "(not available on this server)",
            (ErrReasonTooShort, Lang::Tr) => "Gerekçe çok kısa.",
            (ErrReasonTooShort, Lang::En) => "The reason is too short.",
            (StudentsOnly, Lang::Tr) => "Yoklamaya yalnızca öğrenciler katılabilir.",
            (StudentsOnly, Lang::En) => "Only students check in to attendance sessions.",
            (FindSession, Lang::Tr) => "Yoklama ara",
            (FindSession, Lang::En) => "Find a session",
            (FindHint, Lang::Tr) => "QR kod elinizde değilse dersi ya da öğretim üyesini yazın.",
            (FindHint, Lang::En) => "No QR code at hand? Type the lesson or the teacher.",
            (Search, Lang::Tr) => "Ara",
            (Search, Lang::En) => "Search",
            (NoSessionFound, Lang::Tr) => "Süren bir yoklama bulunamadı.",
            (NoSessionFound, Lang::En) => "No running session was found.",
        }
    }
}

/// A piece of a text: words as they stand, or the name of a value (`{name}`).
enum Piece<'a> {
    Text(&'a str),
    Value(&'a str),
}

/// The pieces of `template`; a `{` that is never closed is text.
fn pieces(mut template: &str) -> impl Iterator<Item = Piece<'_>> {
    std::iter::from_fn(move || {
        if template.is_empty() {
            return None;
        }
        let piece = match template.find('{') {
            Some(0) => match template[1..].find('}') {
                Some(close) => {
                    let name = &template[1..=close];
                    template = &template[close + 2..];
                    return Some(Piece::Value(name));
                }
                None => std::mem::take(&mut template),
            },
            Some(open) => {
                let (text, rest) = template.split_at(open);
                template = rest;
                text
            }
            None => std::mem::take(&mut template),
        };
        Some(Piece::Text(piece))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turkish_unless_the_person_or_browser_says_otherwise() {
        assert_eq!(Lang::negotiate(None, None), Lang::Tr);
        assert_eq!(Lang::negotiate(None, Some("fr-FR,fr;q=0.9")), Lang::Tr);
        assert_eq!(Lang::negotiate(None, Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::negotiate(None, Some("en;q=0.5,tr;q=0.8")), Lang::Tr);
        assert_eq!(Lang::negotiate(Some("en"), Some("tr-TR")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), Some("en")), Lang::En);
    }

    #[test]
    fn both_languages_name_the_same_values_in_every_text() {
        use strum::IntoEnumIterator;
        for text in Text::iter() {
            let mut tr = text.placeholders(Lang::Tr);
            let mut en = text.placeholders(Lang::En);
            tr.sort_unstable();
            en.sort_unstable();
            assert_eq!(tr, en, "{text:?}");
        }
        assert_eq!(
            Text::LessonTally.placeholders(Lang::En),
            ["held", "attended", "missed"]
        );
    }

    #[test]
    fn values_go_where_the_language_puts_them() {
        let page: &dyn std::fmt::Display = &2;
        let pages: &dyn std::fmt::Display = &7;
        let args = [("pages", pages), ("page", page)];
        assert_eq!(Text::PageOf.fill(Lang::Tr, &args), "2 / 7");
        assert_eq!(Text::PageOf.fill(Lang::En, &args), "page 2 of 7");
        // A value left out shows as its name, not as nothing.
        assert_eq!(Text::PageOf.fill(Lang::En, &args[..1]), "page {page} of 7");
        assert_eq!(Text::AppName.fill(Lang::Tr, &args), "ATTN");
    }

    #[test]
    fn every_text_differs_by_language_where_it_should() {
        assert_ne!(
            Text::NotLoggedIn.get(Lang::Tr),
            Text::NotLoggedIn.get(Lang::En)
        );
        assert_eq!(Text::AppName.get(Lang::Tr), Text::AppName.get(Lang::En));
    }
}
